// One Azure AI Content Safety account of apim/topology.json (contentSafetyAccounts): the account (custom subdomain, keys
// disabled) and the "Cognitive Services User" role for API Management's identity, which llm-content-safety calls it
// with through the account's backend (credentials.managedIdentity).

@description('The account as apim/topology.json describes it: name, region, customSubDomain.')
param account object

@description('Name of the user-assigned identity that calls the account.')
param identityName string

@description('Tags for the account.')
param tags object

// Cognitive Services User: the role llm-content-safety's reference recommends for API Management's managed identity.
var cognitiveServicesUserRoleId = 'a97b65f3-24c7-4388-baec-2e87135dc908'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource contentSafety 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: account.name
  location: account.region
  tags: tags
  kind: 'ContentSafety'
  sku: {
    name: 'S0'
  }
  properties: {
    customSubDomainName: account.customSubDomain
    // Entra ID tokens only, as the local mock does: the gateway's managed identity is the one way in.
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

resource cognitiveServicesUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: contentSafety
  name: guid(contentSafety.id, identity.id, cognitiveServicesUserRoleId)
  properties: {
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', cognitiveServicesUserRoleId)
  }
}

output name string = contentSafety.name
output endpoint string = contentSafety.properties.endpoint
