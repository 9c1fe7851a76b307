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
