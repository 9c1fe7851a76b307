# Before azd provision creates anything: checks with your `az` login that this environment can be deployed as
# apim/topology.json and the azd environment ask, and says what to change when it cannot. The same checks, messages and
# exit code as preprovision.sh (read it for the list); needs the Azure CLI, logged in. Skip it with
# `azd env set PREFLIGHT_SKIP true`.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0

$root = Resolve-Path (Join-Path $PSScriptRoot '../..')
$topology = Get-Content -Raw (Join-Path $root 'apim/topology.json') | ConvertFrom-Json
$regions = (Get-Content -Raw (Join-Path $root 'infra/apim-v2-regions.json') | ConvertFrom-Json).tiers

if ($env:PREFLIGHT_SKIP -eq 'true') {
    Write-Host 'preflight: skipped (PREFLIGHT_SKIP=true)'
    exit 0
}

$script:failures = 0
function Fail([string] $what, [string[]] $hints = @()) {
    $script:failures++
    Write-Host "FAIL  $what"
    foreach ($hint in $hints) { Write-Host "      $hint" }
}
function Ok([string] $what) { Write-Host "ok    $what" }
function Warn([string] $what) { Write-Host "warn  $what" }

if (-not (Get-Command az -ErrorAction SilentlyContinue)) {
    Write-Host "preflight: 'az' is not on PATH. Install the Azure CLI (https://aka.ms/azure-cli), or skip the checks: azd env set PREFLIGHT_SKIP true"
    exit 1
}

foreach ($name in 'AZURE_ENV_NAME', 'AZURE_LOCATION', 'AZURE_SUBSCRIPTION_ID') {
    if (-not [Environment]::GetEnvironmentVariable($name)) {
        Write-Host "preflight: $name is not set: run the preflight through azd (azd provision or azd up)"
        exit 1
    }
}
$environment = $env:AZURE_ENV_NAME
$location = $env:AZURE_LOCATION
$subscription = $env:AZURE_SUBSCRIPTION_ID
$sku = if ($env:APIM_SKU) { $env:APIM_SKU } else { 'StandardV2' }
$units = if ($env:APIM_SKU_CAPACITY) { $env:APIM_SKU_CAPACITY } else { '1' }
$today = if ($env:PREFLIGHT_NOW) { $env:PREFLIGHT_NOW.Substring(0, 10) } else { (Get-Date).ToUniversalTime().ToString('yyyy-MM-dd') }
$resourceGroup = "rg-$environment"

# uniqueString(subscription().id, environmentName, location), as ARM computes it (main.bicep's resource token):
# MurmurHash64 (32-bit halves) of the UTF-8 text joined with '-', then 13 base32 letters. Products are split in 16-bit
# halves so that [long] arithmetic never overflows (PowerShell would turn an overflow into a double).
$M = [long]4294967295
function Mul32([long] $a, [long] $b) { (($a * ($b -band 65535)) + ((($a * ($b -shr 16)) -band 65535) -shl 16)) -band $M }
function Rotl32([long] $x, [int] $r) { (($x -shl $r) -bor ($x -shr (32 - $r))) -band $M }
function Fmix32([long] $h) {
    $h = Mul32 ($h -bxor ($h -shr 16)) 2246822507
    $h = Mul32 ($h -bxor ($h -shr 13)) 3266489909
    $h -bxor ($h -shr 16)
}
function Mix1([long] $k) { Mul32 (Rotl32 (Mul32 $k 597399067) 15) 2869860233 }
function Mix2([long] $k) { Mul32 (Rotl32 (Mul32 $k 2869860233) 17) 597399067 }
function UniqueString([string[]] $parts) {
    $bytes = [Text.Encoding]::UTF8.GetBytes(($parts -join '-'))
    $h1 = [long]0
    $h2 = [long]0
    $i = 0
    while ($i + 8 -le $bytes.Length) {
        $k1 = [long]$bytes[$i] -bor ([long]$bytes[$i + 1] -shl 8) -bor ([long]$bytes[$i + 2] -shl 16) -bor ([long]$bytes[$i + 3] -shl 24)
        $k2 = [long]$bytes[$i + 4] -bor ([long]$bytes[$i + 5] -shl 8) -bor ([long]$bytes[$i + 6] -shl 16) -bor ([long]$bytes[$i + 7] -shl 24)
        $h1 = ((Mul32 (((Rotl32 ($h1 -bxor (Mix1 $k1)) 19) + $h2) -band $M) 5) + 1444728091) -band $M
        $h2 = ((Mul32 (((Rotl32 ($h2 -bxor (Mix2 $k2)) 13) + $h1) -band $M) 5) + 197830471) -band $M
        $i += 8
    }
    $tail = $bytes.Length - $i
    if ($tail -gt 0) {
        $k1 = [long]0
        for ($j = 0; $j -lt [Math]::Min($tail, 4); $j++) { $k1 = $k1 -bor ([long]$bytes[$i + $j] -shl (8 * $j)) }
        $h1 = $h1 -bxor (Mix1 $k1)
        if ($tail -gt 4) {
            $k2 = [long]0
            for ($j = 4; $j -lt $tail; $j++) { $k2 = $k2 -bor ([long]$bytes[$i + $j] -shl (8 * ($j - 4))) }
            $h2 = $h2 -bxor (Mix2 $k2)
        }
    }
    $h1 = $h1 -bxor $bytes.Length
    $h2 = $h2 -bxor $bytes.Length
    $h1 = ($h1 + $h2) -band $M
    $h2 = ($h2 + $h1) -band $M
    $h1 = Fmix32 $h1
    $h2 = Fmix32 $h2
    $h1 = ($h1 + $h2) -band $M
    $h2 = ($h2 + $h1) -band $M
    $alphabet = 'abcdefghijklmnopqrstuvwxyz234567'
    $out = ''
    for ($n = 0; $n -lt 13; $n++) {
        $out += $alphabet[[int]($h2 -shr 27)]
        $h2 = (($h2 -shl 5) -bor ($h1 -shr 27)) -band $M
        $h1 = ($h1 -shl 5) -band $M
    }
    $out
}

# The variable main.parameters.json maps for a deployment: AOAI_, its name in capitals, other characters as '_'.
function SettingName([string] $deployment, [string] $what) {
    'AOAI_' + ([regex]::Replace($deployment.ToUpperInvariant(), '[^A-Z0-9]+', '_').Trim('_')) + "_$what"
}
function Setting([string] $deployment, [string] $what) { [Environment]::GetEnvironmentVariable((SettingName $deployment $what)) }

# az with this environment's subscription, JSON parsed; $null when the command fails.
function AzJson([string[]] $arguments) {
    $text = & az @arguments --subscription $subscription --only-show-errors -o json 2>$null
    if ($LASTEXITCODE -ne 0) { return $null }
    ($text -join "`n") | ConvertFrom-Json
}
function Prop($object, [string] $name) { if ($null -ne $object -and $object.PSObject.Properties[$name]) { $object.$name } else { $null } }

$token = UniqueString @("/subscriptions/$subscription", $environment, $location)
$apimName = "apim-$token"
Write-Host "preflight: environment '$environment', subscription $subscription, API Management $sku x$units in $location"
Write-Host "preflight: resource token $token (API Management '$apimName', resource group '$resourceGroup')"

# --- API Management: tier in region, units ---
$tier = Prop $regions $sku
if ($null -eq $tier) {
    Fail "APIM_SKU '$sku' is not a v2 tier" @('use BasicV2, StandardV2 or PremiumV2: azd env set APIM_SKU StandardV2')
} elseif ($tier -contains $location) {
    Ok "API Management $sku is offered in $location"
} else {
    Fail "API Management $sku is not offered in $location" @("regions with ${sku}: $($tier -join ', ')", 'change the tier (azd env set APIM_SKU StandardV2) or the region (azd env set AZURE_LOCATION <region>)')
}
$maxUnits = if ($sku -eq 'PremiumV2') { 30 } else { 10 }
if ($units -match '^[0-9]+$' -and [int]$units -ge 1 -and [int]$units -le $maxUnits) {
    Ok "$units API Management unit(s) are within $sku's 1 to $maxUnits"
} else {
    Fail "APIM_SKU_CAPACITY '$units' is not a number of units $sku allows" @('Basic v2 and Standard v2 scale to 10 units, Premium v2 to 30: azd env set APIM_SKU_CAPACITY 1')
}

# --- Permission to create role assignments ---
$account = AzJson @('account', 'show')
if ($null -eq $account) {
    Write-Host "preflight: 'az account show' failed: log in with 'az login' (the same account as azd auth login) and try again"
    exit 1
}
$login = $account.user.name
$signedIn = if ($account.user.type -eq 'servicePrincipal') { & az ad sp show --id $login --only-show-errors -o json 2>$null } else { & az ad signed-in-user show --only-show-errors -o json 2>$null }
$principal = if ($LASTEXITCODE -eq 0) { (($signedIn -join "`n") | ConvertFrom-Json).id } else { $null }
if (-not $principal) {
    Fail "could not read the object id of '$login' from Microsoft Entra ID" @('the role check needs it; if your tenant hides it, skip the preflight: azd env set PREFLIGHT_SKIP true')
} else {
    $roles = 'Owner', 'User Access Administrator', 'Role Based Access Control Administrator'
    $assignments = @(AzJson @('role', 'assignment', 'list', '--assignee', $principal, '--scope', "/subscriptions/$subscription", '--include-inherited', '--include-groups'))
    $granting = @($assignments | Where-Object { $_ -and $roles -contains $_.roleDefinitionName -and ($_.scope -eq "/subscriptions/$subscription" -or $_.scope -eq '/' -or $_.scope.StartsWith('/providers/Microsoft.Management/managementGroups/')) } |
        ForEach-Object roleDefinitionName | Sort-Object -Unique)
    if ($granting.Count -gt 0) {
        Ok "$login can create role assignments on the subscription ($($granting -join ', '))"
    } else {
        Fail "$login cannot create role assignments on subscription $subscription (AuthorizationFailed ahead)" @(
            "the deployment gives API Management's identity 'Cognitive Services OpenAI User' on each account",
            'ask for Owner, User Access Administrator or Role Based Access Control Administrator on the subscription')
    }
}

# --- Models, versions, SKUs and quota, per account ---
$models = @{}
$usages = @{}
$needs = [ordered]@{}
foreach ($acct in $topology.accounts) {
    $region = $acct.region
    if (-not $models.ContainsKey($region)) {
        $models[$region] = @(AzJson @('cognitiveservices', 'model', 'list', '-l', $region))
        $usages[$region] = @(AzJson @('cognitiveservices', 'usage', 'list', '-l', $region))
    }
    $deployed = @(AzJson @('cognitiveservices', 'account', 'deployment', 'list', '-g', $resourceGroup, '-n', $acct.name))
    foreach ($deployment in $acct.deployments) {
        $model = $deployment.model.name
        $version = if (Setting $deployment.name 'VERSION') { Setting $deployment.name 'VERSION' } else { $deployment.model.version }
        $capacity = if (Setting $deployment.name 'CAPACITY') { Setting $deployment.name 'CAPACITY' } else { "$($deployment.sku.capacity)" }
        $skuName = $deployment.sku.name
        $what = "$($acct.name)/$($deployment.name): $model $version $skuName in $region"
        if ($capacity -notmatch '^[0-9]+$' -or [int]$capacity -eq 0) {
            Fail "${what}: capacity '$capacity' is not a positive whole number" @("azd env set $(SettingName $deployment.name 'CAPACITY') <thousands of tokens per minute>")
            continue
        }
        $offered = $models[$region] | Where-Object { $_ -and $_.kind -eq 'OpenAI' -and $_.model.format -eq $deployment.model.format -and $_.model.name -eq $model -and $_.model.version -eq $version } | Select-Object -First 1
        if (-not $offered) {
            $versions = @($models[$region] | Where-Object { $_ -and $_.kind -eq 'OpenAI' -and $_.model.name -eq $model } | ForEach-Object { $_.model.version } | Sort-Object -Unique)
            Fail "${what}: the region does not offer this model version to this subscription" @(
                "versions of $model it offers: $(if ($versions.Count) { $versions -join ', ' } else { 'none' })",
                "set another: azd env set $(SettingName $deployment.name 'VERSION') <version>, or move the account to another region in apim/topology.json")
            continue
        }
        $offer = @(Prop $offered.model 'skus') | Where-Object { $_ -and $_.name -eq $skuName } | Select-Object -First 1
        if (-not $offer) {
            Fail "${what}: the region offers this version, but not as $skuName" @("SKUs offered: $((@(Prop $offered.model 'skus') | ForEach-Object name) -join ', '); change the deployment's sku.name in apim/topology.json")
            continue
        }
        # ConvertFrom-Json turns ISO dates into DateTime (which prints in the culture's format): keep the date as written.
        $date = Prop $offer 'deprecationDate'
        $retires = if ($date -is [datetime]) { $date.ToString('yyyy-MM-dd', [Globalization.CultureInfo]::InvariantCulture) } elseif ("$date".Length -ge 10) { "$date".Substring(0, 10) } else { '' }
        $lifecycle = "$(Prop $offered.model 'lifecycleStatus')"
        if ($retires -and [string]::CompareOrdinal($retires, $today) -le 0) {
            Fail "${what}: retired on $retires (deployments of a retired model fail: ServiceModelDeprecating)" @(
                "pick a current version (Microsoft's model retirement page) and set it: azd env set $(SettingName $deployment.name 'VERSION') <version>")
            continue
        }
        if ($lifecycle -in 'Deprecated', 'Deprecating') {
            Fail "${what}: $lifecycle, closed to subscriptions that never deployed it (ServiceModelDeprecating)" @(
                "pick a current version and set it: azd env set $(SettingName $deployment.name 'VERSION') <version>")
            continue
        }
        Ok "$what is offered$(if ($retires) { " (retires $retires)" })"
        $usage = if (Prop $offer 'usageName') { $offer.usageName } else { "OpenAI.$skuName.$model" }
        # Capacity this environment's account already holds for the deployment (a second azd up) is not asked again.
        $held = (@($deployed | Where-Object { $_ -and $_.name -eq $deployment.name } | ForEach-Object { [int]$_.sku.capacity }) | Measure-Object -Sum).Sum
        $key = "$region`t$usage"
        if (-not $needs.Contains($key)) { $needs[$key] = [pscustomobject]@{ Region = $region; Usage = $usage; Need = 0; Who = @() } }
        $needs[$key].Need += [int]$capacity - [int]$held
        $needs[$key].Who += "$($acct.name)/$($deployment.name) ($(SettingName $deployment.name 'CAPACITY'))"
    }
}

# Quota is per subscription, region, model and deployment type: add up what this environment asks of each.
foreach ($need in $needs.Values | Sort-Object Region, Usage) {
    $entry = $usages[$need.Region] | Where-Object { $_ -and $_.name.value -eq $need.Usage } | Select-Object -First 1
    $free = if ($entry) { [int][Math]::Floor([double]$entry.limit - [double]$entry.currentValue) } else { 0 }
    if ($need.Need -le $free) {
        Ok "quota $($need.Usage) in $($need.Region): $($need.Need) of $free thousand tokens per minute free"
    } else {
        Fail "quota $($need.Usage) in $($need.Region): $($need.Need) thousand tokens per minute asked, $free free (InsufficientQuota ahead)" @(
            "asked by $($need.Who -join ', ')",
            'lower it (azd env set <variable> <capacity>) or request more quota: https://aka.ms/oai/quotaincrease')
    }
}

# --- Soft-deleted services and accounts that hold this environment's names ---
$deletedService = @(AzJson @('apim', 'deletedservice', 'list')) | Where-Object { $_ -and $_.name.ToLowerInvariant() -eq $apimName } | Select-Object -First 1
if ($deletedService) {
    Fail "a soft-deleted API Management service '$apimName' ($($deletedService.location)) holds this environment's name (ServiceAlreadyExistsInSoftDeletedState)" @(
        "purge it: az apim deletedservice purge --service-name $apimName --location `"$($deletedService.location)`" --subscription $subscription",
        '(azd down --purge does this for you next time)')
} else {
    Ok "no soft-deleted API Management service is named '$apimName'"
}
$deletedAccounts = @(AzJson @('cognitiveservices', 'account', 'list-deleted'))
# Azure OpenAI and Content Safety accounts alike: both are Cognitive Services accounts, soft-deleted the same way.
foreach ($acct in @($topology.accounts) + @(Prop $topology 'contentSafetyAccounts' | Where-Object { $_ })) {
    $subdomain = $acct.customSubDomain.Replace('RESOURCE-TOKEN', $token)
    if (-not $subdomain.Contains($token)) {
        Warn "$($acct.name): customSubDomain '$subdomain' does not contain RESOURCE-TOKEN: it is global, another environment or user may hold it (CustomDomainInUse)"
    }
    $holder = $deletedAccounts | Where-Object {
        $_ -and ((($_.name -eq $acct.name) -and "$(Prop $_ 'id')".ToLowerInvariant().Contains("/resourcegroups/$($resourceGroup.ToLowerInvariant())/") -and ("$(Prop $_ 'location')".ToLowerInvariant() -replace ' ', '') -eq $acct.region) -or
            ("$(Prop (Prop $_ 'properties') 'customSubDomainName')".ToLowerInvariant() -eq $subdomain.ToLowerInvariant()))
    } | Select-Object -First 1
    if ($holder) {
        $heldGroup = if ("$(Prop $holder 'id')" -match '/resourceGroups/([^/]+)/') { $Matches[1] } else { '' }
        Fail "a soft-deleted Cognitive Services account '$($holder.name)' ($($holder.location)) holds '$($acct.name)' or its subdomain '$subdomain' (FlagMustBeSetForRestore, CustomDomainInUse)" @(
            "purge it: az cognitiveservices account purge --name $($holder.name) --resource-group $heldGroup --location `"$($holder.location)`" --subscription $subscription",
            '(needs Microsoft.CognitiveServices/locations/resourceGroups/deletedAccounts/delete, which Contributor has)')
    } else {
        Ok "no soft-deleted account holds '$($acct.name)' or '$subdomain'"
    }
}

Write-Host ''
if ($script:failures -gt 0) {
    Write-Host "preflight: $($script:failures) check(s) failed; nothing was created. Fix the above and run azd up again"
    Write-Host '(or skip the checks: azd env set PREFLIGHT_SKIP true).'
    exit 1
}
Write-Host 'preflight: every check passed.'
exit 0
