#!/bin/sh
# Before azd provision creates anything: checks with your `az` login that this environment can be deployed as
# apim/topology.json and the azd environment ask, and says what to change when it cannot. Each check reads Azure, none
# writes. Needs the Azure CLI (logged in: az login) and jq. Skip it with `azd env set PREFLIGHT_SKIP true`.
#
# What is checked, and the deployment error each check stands in for:
#   - API Management: the region offers the tier (infra/apim-v2-regions.json), the units are within the tier's bounds
#   - each account's region offers each deployment's model version with its SKU, not retired or deprecated
#     (ServiceModelDeprecating, DeploymentModelNotSupported)
#   - the subscription's quota in each region covers the capacity asked (InsufficientQuota)
#   - the signed-in identity can create role assignments on the subscription (AuthorizationFailed)
#   - no soft-deleted API Management service or Azure OpenAI account holds a name this environment needs
#     (ServiceAlreadyExistsInSoftDeletedState, FlagMustBeSetForRestore, CustomDomainInUse)
#
# Inputs: azd's AZURE_ENV_NAME, AZURE_LOCATION, AZURE_SUBSCRIPTION_ID; APIM_SKU, APIM_SKU_CAPACITY and
# AOAI_<DEPLOYMENT>_VERSION / _CAPACITY as main.parameters.json maps them. PREFLIGHT_NOW (ISO date) replaces today.
set -u

root=$(CDPATH='' cd -- "$(dirname -- "$0")/../.." && pwd)
topology="$root/apim/topology.json"
regions="$root/infra/apim-v2-regions.json"

if [ "${PREFLIGHT_SKIP:-}" = "true" ]; then
  echo "preflight: skipped (PREFLIGHT_SKIP=true)"
  exit 0
fi

failures=0
fail() {
  failures=$((failures + 1))
  printf 'FAIL  %s\n' "$1"
  shift
  for line in "$@"; do printf '      %s\n' "$line"; done
}
ok() { printf 'ok    %s\n' "$1"; }
warn() { printf 'warn  %s\n' "$1"; }

for tool in az jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "preflight: '$tool' is not on PATH. Install it (Azure CLI: https://aka.ms/azure-cli; jq: your package manager)," >&2
    echo "or run the PowerShell preflight, or skip the checks: azd env set PREFLIGHT_SKIP true" >&2
    exit 1
  fi
done

environment=${AZURE_ENV_NAME:?AZURE_ENV_NAME is not set: run the preflight through azd (azd provision or azd up)}
location=${AZURE_LOCATION:?AZURE_LOCATION is not set: azd env set AZURE_LOCATION <region>}
subscription=${AZURE_SUBSCRIPTION_ID:?AZURE_SUBSCRIPTION_ID is not set: azd env set AZURE_SUBSCRIPTION_ID <id>}
sku=${APIM_SKU:-StandardV2}
units=${APIM_SKU_CAPACITY:-1}
today=$(printf '%.10s' "${PREFLIGHT_NOW:-$(date -u +%Y-%m-%d)}")
resource_group="rg-$environment"

# --- uniqueString(subscription().id, environmentName, location), as ARM computes it (main.bicep's resource token) ---
# MurmurHash64 (32-bit halves) of the UTF-8 text joined with '-', then 13 base32 letters. 32-bit products are split in
# 16-bit halves so that shell arithmetic (64-bit signed) never overflows.
M=4294967295
# Each helper leaves its result in r (no subshell: a token takes a few thousand of these).
mul32() { r=$(( ( ($1 * ($2 & 65535)) + ((($1 * ($2 >> 16)) & 65535) << 16) ) & M )); }
rotl32() { r=$(( (($1 << $2) | ($1 >> (32 - $2))) & M )); }
fmix32() {
  mul32 $(( $1 ^ ($1 >> 16) )) 2246822507
  mul32 $(( r ^ (r >> 13) )) 3266489909
  r=$(( r ^ (r >> 16) ))
}
mix1() { mul32 "$1" 597399067; rotl32 "$r" 15; mul32 "$r" 2869860233; }
mix2() { mul32 "$1" 2869860233; rotl32 "$r" 17; mul32 "$r" 597399067; }
unique_string() {
  text=$1
  shift
  for part in "$@"; do text="$text-$part"; done
  # shellcheck disable=SC2046 # one argument per byte
  set -- $(printf '%s' "$text" | od -An -v -tu1)
  length=$#
  h1=0
  h2=0
  while [ $# -ge 8 ]; do
    mix1 $(( $1 | ($2 << 8) | ($3 << 16) | ($4 << 24) ))
    rotl32 $(( h1 ^ r )) 19
    mul32 $(( (r + h2) & M )) 5
    h1=$(( (r + 1444728091) & M ))
    mix2 $(( $5 | ($6 << 8) | ($7 << 16) | ($8 << 24) ))
    rotl32 $(( h2 ^ r )) 13
    mul32 $(( (r + h1) & M )) 5
    h2=$(( (r + 197830471) & M ))
    shift 8
  done
  if [ $# -gt 0 ]; then
    k=$1
    [ $# -ge 2 ] && k=$(( k | ($2 << 8) ))
    [ $# -ge 3 ] && k=$(( k | ($3 << 16) ))
    [ $# -ge 4 ] && k=$(( k | ($4 << 24) ))
    mix1 $k
    h1=$(( h1 ^ r ))
    if [ $# -gt 4 ]; then
      k=$5
      [ $# -ge 6 ] && k=$(( k | ($6 << 8) ))
      [ $# -ge 7 ] && k=$(( k | ($7 << 16) ))
      mix2 $k
      h2=$(( h2 ^ r ))
    fi
  fi
  h1=$(( h1 ^ length ))
  h2=$(( h2 ^ length ))
  h1=$(( (h1 + h2) & M ))
  h2=$(( (h2 + h1) & M ))
  fmix32 $h1
  h1=$r
  fmix32 $h2
  h2=$r
  h1=$(( (h1 + h2) & M ))
  h2=$(( (h2 + h1) & M ))
  # The 64-bit hash (h2 high, h1 low), five bits a letter from the top.
  alphabet=abcdefghijklmnopqrstuvwxyz234567
  out=''
  i=0
  while [ $i -lt 13 ]; do
    rest=${alphabet#"$(printf '%.*s' $(( h2 >> 27 )) "$alphabet")"}
    out="$out$(printf '%.1s' "$rest")"
    h2=$(( ((h2 << 5) | (h1 >> 27)) & M ))
    h1=$(( (h1 << 5) & M ))
    i=$((i + 1))
  done
  printf '%s' "$out"
}

# The variable main.parameters.json maps for a deployment: AOAI_, its name in capitals, other characters as '_'.
setting() {
  name="AOAI_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]' | sed 's/[^A-Z0-9][^A-Z0-9]*/_/g; s/^_//; s/_$//')_$2"
  eval "printf '%s' \"\${$name:-}\""
}
setting_name() { printf 'AOAI_%s_%s' "$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]' | sed 's/[^A-Z0-9][^A-Z0-9]*/_/g; s/^_//; s/_$//')" "$2"; }

azq() { az "$@" --subscription "$subscription" --only-show-errors -o json </dev/null; }

token=$(unique_string "/subscriptions/$subscription" "$environment" "$location")
apim_name="apim-$token"
echo "preflight: environment '$environment', subscription $subscription, API Management $sku x$units in $location"
echo "preflight: resource token $token (API Management '$apim_name', resource group '$resource_group')"

# --- API Management: tier in region, units ---------------------------------------------------------------------------
if jq -e --arg sku "$sku" '.tiers | has($sku)' "$regions" >/dev/null; then
  if jq -e --arg sku "$sku" --arg region "$location" '.tiers[$sku] | index($region)' "$regions" >/dev/null; then
    ok "API Management $sku is offered in $location"
  else
    fail "API Management $sku is not offered in $location" \
      "regions with $sku: $(jq -r --arg sku "$sku" '.tiers[$sku] | join(", ")' "$regions")" \
      "change the tier (azd env set APIM_SKU StandardV2) or the region (azd env set AZURE_LOCATION <region>)"
  fi
else
  fail "APIM_SKU '$sku' is not a v2 tier" "use BasicV2, StandardV2 or PremiumV2: azd env set APIM_SKU StandardV2"
fi
case $units in
  '' | *[!0-9]*) max_units=0 ;;
  *) if [ "$sku" = "PremiumV2" ]; then max_units=30; else max_units=10; fi ;;
esac
if [ "$max_units" -gt 0 ] && [ "$units" -ge 1 ] && [ "$units" -le "$max_units" ]; then
  ok "$units API Management unit(s) are within $sku's 1 to $max_units"
else
  fail "APIM_SKU_CAPACITY '$units' is not a number of units $sku allows" \
    "Basic v2 and Standard v2 scale to 10 units, Premium v2 to 30: azd env set APIM_SKU_CAPACITY 1"
fi

# --- Permission to create role assignments -----------------------------------------------------------------------------
if ! account=$(azq account show); then
  echo "preflight: 'az account show' failed: log in with 'az login' (the same account as azd auth login) and try again" >&2
  exit 1
fi
login=$(printf '%s' "$account" | jq -r '.user.name')
if [ "$(printf '%s' "$account" | jq -r '.user.type')" = "servicePrincipal" ]; then
  principal=$(az ad sp show --id "$login" --only-show-errors -o json </dev/null | jq -r '.id')
else
  principal=$(az ad signed-in-user show --only-show-errors -o json </dev/null | jq -r '.id')
fi
if [ -z "$principal" ] || [ "$principal" = "null" ]; then
  fail "could not read the object id of '$login' from Microsoft Entra ID" \
    "the role check needs it; if your tenant hides it, skip the preflight: azd env set PREFLIGHT_SKIP true"
else
  granting=$(azq role assignment list --assignee "$principal" --scope "/subscriptions/$subscription" --include-inherited --include-groups |
    jq -r --arg scope "/subscriptions/$subscription" '
      [.[] | select(.roleDefinitionName == "Owner" or .roleDefinitionName == "User Access Administrator"
                    or .roleDefinitionName == "Role Based Access Control Administrator")
           | select(.scope == $scope or .scope == "/" or (.scope | startswith("/providers/Microsoft.Management/managementGroups/")))
           | .roleDefinitionName] | unique | join(", ")')
  if [ -n "$granting" ]; then
    ok "$login can create role assignments on the subscription ($granting)"
  else
    fail "$login cannot create role assignments on subscription $subscription (AuthorizationFailed ahead)" \
      "the deployment gives API Management's identity 'Cognitive Services OpenAI User' on each account" \
      "ask for Owner, User Access Administrator or Role Based Access Control Administrator on the subscription"
  fi
fi

# --- Models, versions, SKUs and quota, per account ----------------------------------------------------------------------
# The topology's deployments with this environment's settings applied: account, region, deployment, model, version,
# SKU, capacity, subdomain (RESOURCE-TOKEN resolved), one tab-separated line each.
plan=$(jq -r '.accounts[] | .name as $a | .region as $r | .customSubDomain as $s
  | .deployments[] | [$a, $r, .name, .model.format, .model.name, .model.version, .sku.name, (.sku.capacity | tostring), $s] | @tsv' "$topology")
tab=$(printf '\t')
requests=''
queried=''
while IFS=$tab read -r acct region deployment format model version sku_name capacity subdomain; do
  [ -n "$acct" ] || continue
  override=$(setting "$deployment" VERSION)
  [ -n "$override" ] && version=$override
  override=$(setting "$deployment" CAPACITY)
  [ -n "$override" ] && capacity=$override
  what="$acct/$deployment: $model $version $sku_name in $region"
  case $capacity in
    '' | *[!0-9]* | 0)
      fail "$what: capacity '$capacity' is not a positive whole number" \
        "azd env set $(setting_name "$deployment" CAPACITY) <thousands of tokens per minute>"
      continue
      ;;
  esac
  case " $queried " in
    *" $region "*) ;;
    *)
      azq cognitiveservices model list -l "$region" >"${TMPDIR:-/tmp}/preflight-models-$region.$$" || fail "could not list the models of $region"
      azq cognitiveservices usage list -l "$region" >"${TMPDIR:-/tmp}/preflight-usage-$region.$$" || fail "could not list the quota of $region"
      queried="$queried $region"
      ;;
  esac
  offered=$(jq -c --arg f "$format" --arg m "$model" --arg v "$version" \
    '[.[] | select(.kind == "OpenAI" and .model.format == $f and .model.name == $m and .model.version == $v)] | first // empty' \
    "${TMPDIR:-/tmp}/preflight-models-$region.$$")
  if [ -z "$offered" ]; then
    fail "$what: the region does not offer this model version to this subscription" \
      "versions of $model it offers: $(jq -r --arg m "$model" '[.[] | select(.kind == "OpenAI" and .model.name == $m) | .model.version] | unique | join(", ") | if . == "" then "none" else . end' "${TMPDIR:-/tmp}/preflight-models-$region.$$")" \
      "set another: azd env set $(setting_name "$deployment" VERSION) <version>, or move the account to another region in apim/topology.json"
    continue
  fi
  offer=$(printf '%s' "$offered" | jq -c --arg s "$sku_name" '(.model.skus // [])[] | select(.name == $s)')
  if [ -z "$offer" ]; then
    fail "$what: the region offers this version, but not as $sku_name" \
      "SKUs offered: $(printf '%s' "$offered" | jq -r '[(.model.skus // [])[].name] | join(", ")'); change the deployment's sku.name in apim/topology.json"
    continue
  fi
  retires=$(printf '%s' "$offer" | jq -r '(.deprecationDate // "") | .[0:10]')
  lifecycle=$(printf '%s' "$offered" | jq -r '.model.lifecycleStatus // ""')
  if [ -n "$retires" ] && [ ! "$retires" \> "$today" ]; then
    fail "$what: retired on $retires (deployments of a retired model fail: ServiceModelDeprecating)" \
      "pick a current version (Microsoft's model retirement page) and set it: azd env set $(setting_name "$deployment" VERSION) <version>"
    continue
  fi
  case $lifecycle in
    Deprecated | Deprecating)
      fail "$what: $lifecycle, closed to subscriptions that never deployed it (ServiceModelDeprecating)" \
        "pick a current version and set it: azd env set $(setting_name "$deployment" VERSION) <version>"
      continue
      ;;
  esac
  ok "$what is offered${retires:+ (retires $retires)}"
  usage=$(printf '%s' "$offer" | jq -r --arg s "$sku_name" --arg m "$model" '.usageName // ("OpenAI." + $s + "." + $m)')
  # Capacity this environment's account already holds for the deployment (a second azd up) is not asked again.
  held=0
  if deployed=$(azq cognitiveservices account deployment list -g "$resource_group" -n "$acct" 2>/dev/null); then
    held=$(printf '%s' "$deployed" | jq -r --arg d "$deployment" '[.[] | select(.name == $d) | .sku.capacity] | add // 0')
  fi
  requests="$requests$region$tab$usage$tab$((capacity - held))$tab$acct/$deployment$tab$(setting_name "$deployment" CAPACITY)
"
done <<EOF
$plan
EOF

# Quota is per subscription, region, model and deployment type: add up what this environment asks of each.
printf '%s' "$requests" | awk -F '\t' 'NF { need[$1 FS $2] += $3; who[$1 FS $2] = who[$1 FS $2] (who[$1 FS $2] ? ", " : "") $4 " (" $5 ")" }
  END { for (k in need) print k FS need[k] FS who[k] }' | sort >"${TMPDIR:-/tmp}/preflight-needs.$$"
while IFS=$tab read -r region usage need who; do
  [ -n "$region" ] || continue
  free=$(jq -r --arg u "$usage" '[.[] | select(.name.value == $u) | ((.limit // 0) - (.currentValue // 0))] | first // 0 | floor' \
    "${TMPDIR:-/tmp}/preflight-usage-$region.$$")
  if [ "$need" -le "$free" ]; then
    ok "quota $usage in $region: $need of $free thousand tokens per minute free"
  else
    fail "quota $usage in $region: $need thousand tokens per minute asked, $free free (InsufficientQuota ahead)" \
      "asked by $who" \
      "lower it (azd env set <variable> <capacity>) or request more quota: https://aka.ms/oai/quotaincrease"
  fi
done <"${TMPDIR:-/tmp}/preflight-needs.$$"
rm -f "${TMPDIR:-/tmp}"/preflight-*."$$"

# --- Soft-deleted services and accounts that hold this environment's names ----------------------------------------------
deleted=$(azq apim deletedservice list | jq -r --arg n "$apim_name" '.[] | select((.name | ascii_downcase) == $n) | .location')
if [ -n "$deleted" ]; then
  fail "a soft-deleted API Management service '$apim_name' ($deleted) holds this environment's name (ServiceAlreadyExistsInSoftDeletedState)" \
    "purge it: az apim deletedservice purge --service-name $apim_name --location \"$deleted\" --subscription $subscription" \
    "(azd down --purge does this for you next time)"
else
  ok "no soft-deleted API Management service is named '$apim_name'"
fi
accounts_deleted=$(azq cognitiveservices account list-deleted)
while IFS=$tab read -r acct region subdomain; do
  [ -n "$acct" ] || continue
  subdomain=$(printf '%s' "$subdomain" | sed "s/RESOURCE-TOKEN/$token/g")
  case $subdomain in
    *"$token"*) ;;
    *) warn "$acct: customSubDomain '$subdomain' does not contain RESOURCE-TOKEN: it is global, another environment or user may hold it (CustomDomainInUse)" ;;
  esac
  holder=$(printf '%s' "$accounts_deleted" | jq -r --arg a "$acct" --arg g "$resource_group" --arg r "$region" --arg s "$subdomain" '
    .[] | select(((.name == $a) and ((.id // "") | ascii_downcase | contains("/resourcegroups/" + ($g | ascii_downcase) + "/"))
                  and ((.location // "") | ascii_downcase | gsub(" "; "")) == $r)
                 or (((.properties.customSubDomainName // "") | ascii_downcase) == ($s | ascii_downcase)))
    | [.name, .location, ((.id // "") | capture("/resourceGroups/(?<g>[^/]+)/"; "i").g // "")] | @tsv' | head -n 1)
  if [ -n "$holder" ]; then
    IFS=$tab read -r held_name held_location held_group <<EOF2
$holder
EOF2
    fail "a soft-deleted Cognitive Services account '$held_name' ($held_location) holds '$acct' or its subdomain '$subdomain' (FlagMustBeSetForRestore, CustomDomainInUse)" \
      "purge it: az cognitiveservices account purge --name $held_name --resource-group $held_group --location \"$held_location\" --subscription $subscription" \
      "(needs Microsoft.CognitiveServices/locations/resourceGroups/deletedAccounts/delete, which Contributor has)"
  else
    ok "no soft-deleted account holds '$acct' or '$subdomain'"
  fi
done <<EOF
$(jq -r '(.accounts[], (.contentSafetyAccounts // [])[]) | [.name, .region, .customSubDomain] | @tsv' "$topology")
EOF

echo ""
if [ "$failures" -gt 0 ]; then
  echo "preflight: $failures check(s) failed; nothing was created. Fix the above and run azd up again"
  echo "(or skip the checks: azd env set PREFLIGHT_SKIP true)."
  exit 1
fi
echo "preflight: every check passed."
