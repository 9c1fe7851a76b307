// "Cognitive Services OpenAI User" on one Azure OpenAI account for one more principal: API Management's system-assigned
// identity, which azure-openai-semantic-cache-lookup calls the embeddings backend with (embeddings-backend-auth
// "system-assigned", the only value the reference allows).

@description('Name of the Azure OpenAI account.')
param accountName string

@description('Object id of the service principal to let in.')
param principalId string

// Cognitive Services OpenAI User: inference calls, no management or keys.
var openAIUserRoleId = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource openai 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: accountName
}

resource openAIUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: openai
  name: guid(openai.id, principalId, openAIUserRoleId)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAIUserRoleId)
  }
}
