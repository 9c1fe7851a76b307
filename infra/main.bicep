// azd up: API Management in front of the Azure OpenAI and Content Safety accounts of apim/topology.json, with the same
// artefacts the local gateway runs. Everything API Management gets comes from apim/ through loadJsonContent and
// loadTextContent, which the compiler inlines: there is no second copy to drift, and no policy text is rewritten here.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; resource names and the azd-env-name tag derive from it.')
param environmentName string

// The regions where API Management's v2 tiers exist (infra/apim-v2-regions.json, from Microsoft's v2 region table): azd
// offers only these at its location prompt. Which of them offers the chosen tier the preprovision preflight checks.
@allowed([
  'australiacentral'
  'australiaeast'
  'australiasoutheast'
  'brazilsouth'
  'canadacentral'
  'canadaeast'
  'centralindia'
  'centralus'
  'eastasia'
  'eastus'
  'eastus2'
  'francecentral'
  'germanywestcentral'
  'italynorth'
  'japaneast'
  'koreacentral'
  'northcentralus'
  'northeurope'
  'norwayeast'
  'southafricanorth'
  'southcentralus'
  'southindia'
  'swedencentral'
  'switzerlandnorth'
  'uaenorth'
  'uksouth'
  'ukwest'
  'westeurope'
  'westus'
  'westus2'
])
@description('Region of the resource group, API Management, the identity and monitoring (each Azure OpenAI and Content Safety account has the region of apim/topology.json).')
param location string

@allowed([
  'BasicV2'
  'StandardV2'
  'PremiumV2'
])
@description('API Management tier. The v2 tiers have backend pools and circuit breakers.')
param apimSku string = 'StandardV2'

// API Management's bounds: Basic v2 and Standard v2 scale to 10 units, Premium v2 to 30 (docs/deployment.md). The
// parameter takes the widest; the preprovision preflight refuses more than 10 for the other two tiers.
@minValue(1)
@maxValue(30)
@description('API Management units.')
param apimSkuCapacity int = 1

@description('API Management publisher email.')
param publisherEmail string = 'apim-publisher@example.com'

@description('API Management publisher name.')
param publisherName string = 'Azure OpenAI gateway'

@description('Per deployment name of apim/topology.json: { version, capacity } replacing the topology\'s model version and SKU capacity (thousands of tokens per minute) in every account; an empty or missing value keeps the topology\'s. main.parameters.json fills it from the azd environment (AOAI_<DEPLOYMENT>_VERSION, AOAI_<DEPLOYMENT>_CAPACITY).')
param deploymentSettings object = {}

@secure()
@description('Values of secret named values that apim/named-values.json lists without a value, by name.')
param secretNamedValues object = {}

@description('Deploy examples/semantic-cache-content-safety over apim/: its global policy, fragments and named values, an Azure Managed Redis with RediSearch as API Management\'s external cache, and API Management\'s system-assigned identity with access to the embeddings account. main.parameters.json fills it from the azd environment (EXAMPLE_SEMANTIC_CACHE_CONTENT_SAFETY); off by default.')
param semanticCacheContentSafety bool = false

// ---------------------------------------------------------------------------------------------------------------
// apim/, file by file. Bicep cannot list a folder, so each file is named here once; tests/Infra.Tests fails when a
// file under apim/ (an API, a policy, an operation policy, a fragment, a product) is not deployed by this template.
// ---------------------------------------------------------------------------------------------------------------
var topology = loadJsonContent('../apim/topology.json')
var subscriptions = loadJsonContent('../apim/subscriptions.json')

@description('apim/named-values.json, or the example\'s (the same entries and its own) when it is deployed.')
var namedValues = semanticCacheContentSafety
  ? loadJsonContent('../examples/semantic-cache-content-safety/named-values.json')
  : loadJsonContent('../apim/named-values.json')

@description('apim/global-policy.xml (none: API Management\'s default global policy), or the example\'s.')
var globalPolicy = semanticCacheContentSafety
  ? loadTextContent('../examples/semantic-cache-content-safety/global-policy.xml')
  : ''

@description('examples/semantic-cache-content-safety/fragments/{id}.xml, deployed beside apim/\'s when the example is.')
var exampleFragments = semanticCacheContentSafety
  ? [
      { id: 'content-safety', xml: loadTextContent('../examples/semantic-cache-content-safety/fragments/content-safety.xml') }
      { id: 'semantic-cache-lookup', xml: loadTextContent('../examples/semantic-cache-content-safety/fragments/semantic-cache-lookup.xml') }
      { id: 'semantic-cache-store', xml: loadTextContent('../examples/semantic-cache-content-safety/fragments/semantic-cache-store.xml') }
    ]
  : []

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

// Global names come from the environment: the topology writes RESOURCE-TOKEN where a custom subdomain (global across
// Azure) is spelled, in the account and in its backends' URLs, and the deployment puts azd's resource token there, so
// two environments, or two users, never ask for the same subdomain. Locally the backends' URLs are the mocks'.
var resourceTokenPlaceholder = 'RESOURCE-TOKEN'

@description('apim/topology.json\'s Content Safety accounts (the list is optional).')
var contentSafetyAccounts = topology.?contentSafetyAccounts ?? []

@description('apim/topology.json as deployed: the resource token in place of RESOURCE-TOKEN, the environment\'s model versions and capacities.')
var deployedTopology = union(topology, {
  accounts: map(topology.accounts, account => union(account, {
    customSubDomain: replace(account.customSubDomain, resourceTokenPlaceholder, resourceToken)
    deployments: map(account.deployments, deployment => union(deployment, {
      model: union(deployment.model, {
        version: empty(deploymentSettings[?deployment.name].?version ?? '') ? deployment.model.version : deploymentSettings[deployment.name].version
      })
      sku: union(deployment.sku, {
        capacity: empty(string(deploymentSettings[?deployment.name].?capacity ?? '')) ? deployment.sku.capacity : int(deploymentSettings[deployment.name].capacity)
      })
    }))
  }))
  contentSafetyAccounts: map(contentSafetyAccounts, account => union(account, {
    customSubDomain: replace(account.customSubDomain, resourceTokenPlaceholder, resourceToken)
  }))
  backends: map(topology.backends, backend => contains(backend, 'url') ? union(backend, { url: replace(backend.url, resourceTokenPlaceholder, resourceToken) }) : backend)
})

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
  for (account, i) in topology.accounts: {
    name: 'openai-${account.name}'
    scope: resourceGroup
    params: {
      account: deployedTopology.accounts[i]
      identityName: identity.outputs.name
      tags: tags
    }
  }
]

module contentSafety 'modules/contentsafety.bicep' = [
  for (account, i) in contentSafetyAccounts: {
    name: 'contentsafety-${account.name}'
    scope: resourceGroup
    params: {
      account: deployedTopology.contentSafetyAccounts[i]
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
    topology: deployedTopology
    namedValues: namedValues
    deploymentNamedValues: {
      'managed-identity-client-id': identity.outputs.clientId
    }
    secretNamedValues: secretNamedValues
    subscriptions: subscriptions
    globalPolicy: globalPolicy
    fragments: concat(fragments, exampleFragments)
    apis: apis
    products: products
    systemAssignedIdentity: semanticCacheContentSafety
    externalCacheRedisName: semanticCacheContentSafety ? redis!.outputs.name : ''
  }
}

// examples/semantic-cache-content-safety: the cache's store, and the embeddings account open to API Management's own
// identity, which the lookup calls the embeddings backend with.
module redis 'modules/redis.bicep' = if (semanticCacheContentSafety) {
  scope: resourceGroup
  params: {
    name: 'redis-${resourceToken}'
    location: location
    tags: tags
  }
}

var embeddingsBackend = filter(topology.backends, backend => backend.id == 'embeddings-backend')

module embeddingsRole 'modules/openai-user-role.bicep' = if (semanticCacheContentSafety) {
  scope: resourceGroup
  dependsOn: [openai]
  params: {
    accountName: embeddingsBackend[0].account
    principalId: apim.outputs.systemAssignedPrincipalId
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
output AZURE_CONTENT_SAFETY_ACCOUNTS string = join(map(contentSafetyAccounts, a => a.name), ',')
@description('The token in this environment\'s global names (API Management, the accounts\' custom subdomains); the preflight derives the same.')
output AZURE_RESOURCE_TOKEN string = resourceToken
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
