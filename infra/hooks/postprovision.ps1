# After azd provision: where the gateway is and how to read a subscription key (azd passes the outputs of
# infra/main.bicep as environment variables).
$ErrorActionPreference = 'Stop'

$firstSubscription = ($env:APIM_SUBSCRIPTIONS -split ',')[0]

Write-Host ''
Write-Host "API Management gateway (the SDK endpoint): $($env:APIM_GATEWAY_URL)"
Write-Host "Azure OpenAI API:                          $($env:GATEWAY_URL)"
Write-Host "Subscriptions:                             $($env:APIM_SUBSCRIPTIONS)"
Write-Host ''
Write-Host "Read the primary key of subscription '$firstSubscription':"
Write-Host "  az rest --method post --url `"https://management.azure.com/subscriptions/$($env:AZURE_SUBSCRIPTION_ID)/resourceGroups/$($env:AZURE_RESOURCE_GROUP)/providers/Microsoft.ApiManagement/service/$($env:APIM_NAME)/subscriptions/$firstSubscription/listSecrets?api-version=2024-05-01`" --query primaryKey -o tsv"
Write-Host ''
Write-Host "The first calls may answer 401 or 403 for a few minutes: the 'Cognitive Services OpenAI User' role that API"
Write-Host "Management's identity was just given on each account takes up to 10 minutes to take effect (Azure RBAC). Retry"
Write-Host "until then; the scenario suite against this gateway waits for it (Target:FirstCallTimeout, 10 minutes by default)."
Write-Host ''
Write-Host "Tear down with: azd down --purge   (API Management and the accounts are soft-deleted otherwise, and keep this"
Write-Host "environment's names: the next azd up would fail until they are purged)"
Write-Host ''
