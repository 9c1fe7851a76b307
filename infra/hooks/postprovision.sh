#!/bin/sh
# After azd provision: where the gateway is and how to read a subscription key (azd passes the outputs of
# infra/main.bicep as environment variables).
set -eu

first_subscription=$(printf '%s' "${APIM_SUBSCRIPTIONS:-}" | cut -d, -f1)

echo ""
echo "API Management gateway (the SDK endpoint): ${APIM_GATEWAY_URL}"
echo "Azure OpenAI API:                          ${GATEWAY_URL}"
echo "Subscriptions:                             ${APIM_SUBSCRIPTIONS}"
echo ""
echo "Read the primary key of subscription '${first_subscription}':"
echo "  az rest --method post --url \"https://management.azure.com/subscriptions/${AZURE_SUBSCRIPTION_ID}/resourceGroups/${AZURE_RESOURCE_GROUP}/providers/Microsoft.ApiManagement/service/${APIM_NAME}/subscriptions/${first_subscription}/listSecrets?api-version=2024-05-01\" --query primaryKey -o tsv"
echo ""
echo "The first calls may answer 401 or 403 for a few minutes: the 'Cognitive Services OpenAI User' role that API"
echo "Management's identity was just given on each account takes up to 10 minutes to take effect (Azure RBAC). Retry"
echo "until then; the scenario suite against this gateway waits for it (Target:FirstCallTimeout, 10 minutes by default)."
echo ""
echo "Tear down with: azd down --purge   (API Management and the accounts are soft-deleted otherwise, and keep this"
echo "environment's names: the next azd up would fail until they are purged)"
echo ""
