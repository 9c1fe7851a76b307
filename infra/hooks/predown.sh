#!/bin/sh
# Before azd down: API Management and the Cognitive Services accounts (Azure OpenAI, Content Safety) are soft-deleted
# when deleted, and keep their names (and the accounts their custom subdomains) until purged, so the next azd up of
# this environment would fail. Says so, and what purging needs. azd passes --purge on to both; nothing here deletes
# anything.
set -eu

cat <<TEXT

azd down deletes API Management '${APIM_NAME:-apim-<token>}', the Azure OpenAI accounts (${AZURE_OPENAI_ACCOUNTS:-see apim/topology.json})
and the Content Safety accounts (${AZURE_CONTENT_SAFETY_ACCOUNTS:-see apim/topology.json}).
Both are soft-deleted by Azure and keep their names until purged: without --purge, the next azd up of this
environment fails (ServiceAlreadyExistsInSoftDeletedState, FlagMustBeSetForRestore, CustomDomainInUse) until the
soft-deleted ones are purged or their retention ends (48 hours for the accounts).

  azd down --purge     deletes and purges both (the documented teardown)

Purging needs, on the subscription (a role on the resource group is not enough: soft-deleted resources live under
the subscription's locations): Microsoft.ApiManagement/locations/deletedservices/delete and
Microsoft.CognitiveServices/locations/resourceGroups/deletedAccounts/delete. Owner and Contributor on the
subscription have both.
To purge by hand later:
  az apim deletedservice purge --service-name <name> --location <region>
  az cognitiveservices account purge --name <account> --resource-group rg-${AZURE_ENV_NAME:-<environment>} --location <region>

TEXT
