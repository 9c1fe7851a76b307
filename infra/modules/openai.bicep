// One Azure OpenAI account of apim/topology.json: the account (custom subdomain, keys disabled), its model deployments
// and the "Cognitive Services OpenAI User" role for API Management's identity.

@description('The account as apim/topology.json describes it: name, region, customSubDomain, deployments.')
param account object

@description('Name of the user-assigned identity that calls the account.')
param identityName string

@description('Tags for the account.')
param tags object

// Cognitive Services OpenAI User: inference calls, no management or keys.
var openAIUserRoleId = '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource openai 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: account.name
  location: account.region
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: account.customSubDomain
    // Entra ID tokens only, as the local mocks do: the gateway's managed identity is the one way in.
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// Azure OpenAI refuses concurrent changes to the deployments of one account: one at a time.
@batchSize(1)
resource deployments 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = [
  for deployment in account.deployments: {
    parent: openai
    name: deployment.name
    sku: {
      name: deployment.sku.name
      capacity: deployment.sku.capacity
    }
    properties: {
      model: {
        format: deployment.model.format
        name: deployment.model.name
        version: deployment.model.version
      }
    }
  }
]

resource openAIUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: openai
  name: guid(openai.id, identity.id, openAIUserRoleId)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', openAIUserRoleId)
  }
}

output name string = openai.name
output endpoint string = openai.properties.endpoint
