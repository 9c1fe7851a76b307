// azd up: API Management in front of the Azure OpenAI accounts of apim/topology.json, with the same artefacts the
// local gateway runs. Everything API Management gets comes from apim/ through loadJsonContent/loadTextContent, which
// the compiler inlines: there is no second copy to drift, and no policy text is rewritten here.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; resource names and the azd-env-name tag derive from it.')
param environmentName string

@minLength(1)
@description('Region of the resource group, API Management, the identity and monitoring (each Azure OpenAI account has the region of apim/topology.json).')
param location string

@allowed([
  'BasicV2'
  'StandardV2'
  'PremiumV2'
])
@description('API Management tier. The v2 tiers have backend pools and circuit breakers.')
param apimSku string = 'StandardV2'

@minValue(1)
@description('API Management units.')
param apimSkuCapacity int = 1

@description('API Management publisher email.')
param publisherEmail string = 'apim-publisher@example.com'

@description('API Management publisher name.')
param publisherName string = 'Azure OpenAI gateway'

@secure()
@description('Values of secret named values that apim/named-values.json lists without a value, by name.')
param secretNamedValues object = {}

// ---------------------------------------------------------------------------------------------------------------
// apim/, file by file. Bicep cannot list a folder, so each file is named here once; tests/Infra.Tests fails when a
// file under apim/ (an API, a policy, an operation policy, a fragment, a product) is not deployed by this template.
// ---------------------------------------------------------------------------------------------------------------
var topology = loadJsonContent('../apim/topology.json')
var namedValues = loadJsonContent('../apim/named-values.json')
var subscriptions = loadJsonContent('../apim/subscriptions.json')

@description('apim/global-policy.xml; empty: API Management\'s default global policy.')
var globalPolicy = ''

@description('apim/fragments/{id}.xml.')
var fragments = [
  { id: 'aoai-conversation-forward', xml: loadTextContent('../apim/fragments/aoai-conversation-forward.xml') }
  { id: 'aoai-conversation-record', xml: loadTextContent('../apim/fragments/aoai-conversation-record.xml') }
  { id: 'aoai-error-mapping', xml: loadTextContent('../apim/fragments/aoai-error-mapping.xml') }
  { id: 'aoai-managed-identity', xml: loadTextContent('../apim/fragments/aoai-managed-identity.xml') }
  { id: 'aoai-routing', xml: loadTextContent('../apim/fragments/aoai-routing.xml') }
  { id: 'aoai-token-governance', xml: loadTextContent('../apim/fragments/aoai-token-governance.xml') }
]

@description('apim/apis/{api}/: api.json, the definition and policy it names, operations/{operationId}.xml.')
var apis = [
  {
    entity: loadJsonContent('../apim/apis/azure-openai/api.json')
    definition: loadTextContent('../apim/apis/azure-openai/openapi.json')
    policy: loadTextContent('../apim/apis/azure-openai/policy.xml')
    operationPolicies: []
  }
]

@description('apim/products/{product}/: product.json and the policy it names.')
var products = []

// ---------------------------------------------------------------------------------------------------------------

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

resource resourceGroup 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  scope: resourceGroup
  params: {
    name: 'id-apim-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: resourceGroup
  params: {
    workspaceName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
  }
}

module openai 'modules/openai.bicep' = [
  for account in topology.accounts: {
    name: 'openai-${account.name}'
    scope: resourceGroup
    params: {
      account: account
      identityName: identity.outputs.name
      tags: tags
    }
  }
]

module apim 'modules/apim.bicep' = {
  scope: resourceGroup
  params: {
    name: 'apim-${resourceToken}'
    location: location
    tags: tags
    sku: apimSku
    skuCapacity: apimSkuCapacity
    publisherEmail: publisherEmail
    publisherName: publisherName
    identityName: identity.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    topology: topology
    namedValues: namedValues
    deploymentNamedValues: {
      'managed-identity-client-id': identity.outputs.clientId
    }
    secretNamedValues: secretNamedValues
    subscriptions: subscriptions
    globalPolicy: globalPolicy
    fragments: fragments
    apis: apis
    products: products
  }
}

output AZURE_RESOURCE_GROUP string = resourceGroup.name
output APIM_NAME string = apim.outputs.name
@description('The endpoint for the Azure OpenAI SDKs: they add /openai/deployments/... themselves.')
output APIM_GATEWAY_URL string = apim.outputs.gatewayUrl
@description('The API\'s base URL, as curl and the OpenAPI document see it.')
output GATEWAY_URL string = '${apim.outputs.gatewayUrl}/${apis[0].entity.path}'
output APIM_SUBSCRIPTIONS string = join(map(subscriptions.subscriptions, s => s.name), ',')
output AZURE_OPENAI_ACCOUNTS string = join(map(topology.accounts, a => a.name), ',')
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
