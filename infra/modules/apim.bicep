// API Management with everything apim/ holds: named values, policy fragments, the global policy, the APIs with their
// definitions, policies and operation policies, backends and pools, products, users and subscriptions, and the
// Application Insights logger. Every text and entity arrives as loaded from apim/ (main.bicep): nothing is rewritten.

@description('Name of the API Management service.')
param name string

@description('Region of the service.')
param location string

@description('Tags for the service.')
param tags object

@description('Pricing tier: a v2 tier (backend pools and circuit breakers need a dedicated tier; Consumption has neither).')
@allowed([
  'BasicV2'
  'StandardV2'
  'PremiumV2'
])
param sku string

@description('Units of the tier.')
param skuCapacity int

@description('Publisher email (API Management requires one).')
param publisherEmail string

@description('Publisher name.')
param publisherName string

@description('Name of the user-assigned identity the policies and the backends\' managed-identity credentials call Azure OpenAI and Content Safety with.')
param identityName string

@description('Name of the Application Insights component the logger sends to.')
param applicationInsightsName string

@description('apim/topology.json.')
param topology object

@description('apim/named-values.json.')
param namedValues object

@description('Values for named values that have none in named-values.json and are not secrets (the identity\'s client id).')
param deploymentNamedValues object

@secure()
@description('Values for secret named values that have none in named-values.json, by name.')
param secretNamedValues object

@description('apim/subscriptions.json: subscriptions and the users who own them.')
param subscriptions object

@description('apim/global-policy.xml, or empty for API Management\'s default.')
param globalPolicy string

@description('apim/fragments/*.xml.')
param fragments fragmentFile[]

@description('apim/apis/*/.')
param apis apiFiles[]

@description('apim/products/*/.')
param products productFiles[]

@description('Whether the service also gets a system-assigned identity: the semantic cache lookup calls its embeddings backend with it (embeddings-backend-auth="system-assigned").')
param systemAssignedIdentity bool = false

@description('Name of an Azure Managed Redis of this resource group (with its database "default" and RediSearch) to use as the service\'s external cache, which the semantic cache policies need; empty: none.')
param externalCacheRedisName string = ''

@description('A policy fragment: its id (the file name) and its XML.')
type fragmentFile = {
  id: string
  xml: string
}

@description('An API: api.json, the OpenAPI document it names, its policy and its operation policies.')
type apiFiles = {
  entity: object
  definition: string
  policy: string
  operationPolicies: {
    operationId: string
    xml: string
  }[]
}

@description('A product: product.json and its policy, or an empty string when it has none.')
type productFiles = {
  entity: object
  policy: string
}

var singleBackends = filter(topology.backends, backend => toLower(backend.?type ?? 'Single') != 'pool')
var poolBackends = filter(topology.backends, backend => toLower(backend.?type ?? 'Single') == 'pool')
var operationPolicies = flatten(map(apis, api => map(api.operationPolicies, operation => {
  api: api.entity.id
  operationId: operation.operationId
  xml: operation.xml
})))
var productApis = flatten(map(products, product => map(product.entity.?apis ?? [], api => {
  product: product.entity.id
  api: api
})))
var productGroups = flatten(map(products, product => map(product.entity.?groups ?? [], group => {
  product: product.entity.id
  group: group
})))
var productPolicies = filter(products, product => !empty(product.policy))
var users = subscriptions.?users ?? []
var userGroups = flatten(map(users, user => map(user.?groups ?? [], group => {
  user: user.id
  group: group
})))

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' existing = {
  name: identityName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// The service uses 2025-03-01-preview: the first API version whose SKU names include PremiumV2 (2024-05-01 to
// 2024-10-01-preview list BasicV2 and StandardV2 only). tests/Infra.Tests reads the Bicep types to hold main.bicep's
// allowed tiers to that list.
resource apim 'Microsoft.ApiManagement/service@2025-03-01-preview' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: sku
    capacity: skuCapacity
  }
  identity: {
    type: systemAssignedIdentity ? 'SystemAssigned, UserAssigned' : 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    publisherEmail: publisherEmail
    publisherName: publisherName
  }
}

resource externalRedis 'Microsoft.Cache/redisEnterprise@2025-07-01' existing = if (!empty(externalCacheRedisName)) {
  name: externalCacheRedisName
}

resource externalRedisDatabase 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' existing = if (!empty(externalCacheRedisName)) {
  parent: externalRedis
  name: 'default'
}

// The external cache every gateway location uses ("default"), reached with the database's access key over TLS, as
// "Use an external Redis-compatible cache in Azure API Management" configures it.
resource externalCache 'Microsoft.ApiManagement/service/caches@2024-06-01-preview' = if (!empty(externalCacheRedisName)) {
  parent: apim
  name: 'default'
  properties: {
    description: externalRedis!.properties.hostName
    connectionString: '${externalRedis!.properties.hostName}:${externalRedisDatabase!.properties.port},password=${externalRedisDatabase!.listKeys().primaryKey},ssl=True,abortConnect=False'
    useFromLocation: 'default'
  }
}

resource namedValue 'Microsoft.ApiManagement/service/namedValues@2024-06-01-preview' = [
  for entry in namedValues.namedValues: {
    parent: apim
    name: entry.name
    properties: {
      displayName: entry.name
      // A value of its own, else one the deployment supplies (the identity's client id), else a secret parameter.
      value: entry.?value ?? deploymentNamedValues[?entry.name] ?? secretNamedValues[?entry.name]
      secret: entry.?secret ?? !(contains(entry, 'value') || contains(deploymentNamedValues, entry.name))
    }
  }
]

resource fragment 'Microsoft.ApiManagement/service/policyFragments@2024-06-01-preview' = [
  for file in fragments: {
    parent: apim
    name: file.id
    properties: {
      format: 'rawxml'
      value: file.xml
    }
    dependsOn: [
      namedValue
    ]
  }
]

// Backends use 2024-10-01-preview: the first API version whose pool has sessionAffinity (2024-05-01 and
// 2024-06-01-preview do not; the Bicep types refuse the property there).
resource backend 'Microsoft.ApiManagement/service/backends@2024-10-01-preview' = [
  for entry in singleBackends: {
    parent: apim
    name: entry.id
    properties: {
      type: 'Single'
      url: entry.url
      protocol: entry.?protocol ?? 'http'
      description: entry.?description
      circuitBreaker: entry.?circuitBreaker
      // Headers, query parameters, an Authorization header or a managed-identity token (managedIdentity.resource,
      // clientId) that API Management adds to every request to this backend; {{named values}} in them resolve in Azure.
      // A managed identity without clientId is the gateway's own: here the service's one identity, user-assigned, whose
      // client id it must name (without one API Management would ask for a system-assigned identity it does not have).
      // (Every access below is safe on its own: the template language need not short-circuit || nor the branches.)
      credentials: !contains(entry.?credentials ?? {}, 'managedIdentity') || contains(entry.?credentials.?managedIdentity ?? {}, 'clientId')
        ? entry.?credentials
        : union(entry.?credentials ?? {}, { managedIdentity: union(entry.?credentials.?managedIdentity ?? {}, { clientId: identity.properties.clientId }) })
    }
  }
]

resource pool 'Microsoft.ApiManagement/service/backends@2024-10-01-preview' = [
  for entry in poolBackends: {
    parent: apim
    name: entry.id
    properties: {
      type: 'Pool'
      description: entry.?description
      pool: {
        services: map(entry.pool.services, member => {
          // A member may be written as a backend id or as an ARM id ending in /backends/<id>.
          id: resourceId('Microsoft.ApiManagement/service/backends', apim.name, last(split(member.id, '/')))
          priority: member.?priority
          weight: member.?weight
        })
        sessionAffinity: entry.pool.?sessionAffinity
      }
    }
    dependsOn: [
      backend
    ]
  }
]

resource global 'Microsoft.ApiManagement/service/policies@2024-06-01-preview' = if (!empty(globalPolicy)) {
  parent: apim
  name: 'policy'
  properties: {
    format: 'rawxml'
    value: globalPolicy
  }
  dependsOn: [
    namedValue
    fragment
    backend
    pool
  ]
}

resource api 'Microsoft.ApiManagement/service/apis@2024-06-01-preview' = [
  for file in apis: {
    parent: apim
    name: file.entity.id
    properties: {
      displayName: file.entity.?displayName ?? file.entity.id
      path: file.entity.path
      protocols: file.entity.?protocols ?? ['https']
      subscriptionRequired: file.entity.?subscriptionRequired ?? true
      subscriptionKeyParameterNames: file.entity.?subscriptionKeyParameterNames
      serviceUrl: file.entity.?serviceUrl
      format: 'openapi+json'
      value: file.definition
    }
  }
]

resource apiPolicy 'Microsoft.ApiManagement/service/apis/policies@2024-06-01-preview' = [
  for (file, i) in apis: {
    parent: api[i]
    name: 'policy'
    properties: {
      format: 'rawxml'
      value: file.policy
    }
    dependsOn: [
      namedValue
      fragment
      backend
      pool
    ]
  }
]

// An operation imported from an OpenAPI document is named after its operationId.
resource operationPolicy 'Microsoft.ApiManagement/service/apis/operations/policies@2024-06-01-preview' = [
  for entry in operationPolicies: {
    name: '${apim.name}/${entry.api}/${entry.operationId}/policy'
    properties: {
      format: 'rawxml'
      value: entry.xml
    }
    dependsOn: [
      api
      namedValue
      fragment
      backend
      pool
    ]
  }
]

resource product 'Microsoft.ApiManagement/service/products@2024-06-01-preview' = [
  for file in products: {
    parent: apim
    name: file.entity.id
    properties: {
      displayName: file.entity.?displayName ?? file.entity.id
      description: file.entity.?description
      subscriptionRequired: file.entity.?subscriptionRequired ?? true
      approvalRequired: file.entity.?approvalRequired ?? false
      subscriptionsLimit: file.entity.?subscriptionsLimit
      state: file.entity.?state ?? 'published'
    }
  }
]

resource productApi 'Microsoft.ApiManagement/service/products/apis@2024-06-01-preview' = [
  for entry in productApis: {
    name: '${apim.name}/${entry.product}/${entry.api}'
    dependsOn: [
      product
      api
    ]
  }
]

resource productGroup 'Microsoft.ApiManagement/service/products/groups@2024-06-01-preview' = [
  for entry in productGroups: {
    name: '${apim.name}/${entry.product}/${entry.group}'
    dependsOn: [
      product
    ]
  }
]

resource productPolicy 'Microsoft.ApiManagement/service/products/policies@2024-06-01-preview' = [
  for file in productPolicies: {
    name: '${apim.name}/${file.entity.id}/policy'
    properties: {
      format: 'rawxml'
      value: file.policy
    }
    dependsOn: [
      product
      namedValue
      fragment
      backend
      pool
    ]
  }
]

resource user 'Microsoft.ApiManagement/service/users@2024-06-01-preview' = [
  for entry in users: {
    parent: apim
    name: entry.id
    properties: {
      email: entry.email
      firstName: entry.firstName
      lastName: entry.lastName
      note: entry.?note
      state: 'active'
    }
  }
]

resource userGroup 'Microsoft.ApiManagement/service/groups/users@2024-06-01-preview' = [
  for entry in userGroups: {
    name: '${apim.name}/${entry.group}/${entry.user}'
    dependsOn: [
      user
    ]
  }
]

resource subscription 'Microsoft.ApiManagement/service/subscriptions@2024-06-01-preview' = [
  for entry in subscriptions.subscriptions: {
    parent: apim
    name: entry.name
    properties: {
      displayName: entry.?displayName ?? entry.name
      scope: entry.scope
      state: entry.?state ?? 'active'
      ownerId: entry.?ownerId == null ? null : '/users/${entry.ownerId}'
    }
    dependsOn: [
      api
      product
      user
    ]
  }
]

resource logger 'Microsoft.ApiManagement/service/loggers@2024-06-01-preview' = {
  parent: apim
  name: 'applicationinsights'
  properties: {
    loggerType: 'applicationInsights'
    resourceId: applicationInsights.id
    credentials: {
      connectionString: applicationInsights.properties.ConnectionString
    }
  }
}

resource diagnostic 'Microsoft.ApiManagement/service/apis/diagnostics@2024-06-01-preview' = [
  for (file, i) in apis: {
    parent: api[i]
    name: 'applicationinsights'
    properties: {
      loggerId: logger.id
      alwaysLog: 'allErrors'
      verbosity: 'information'
      httpCorrelationProtocol: 'W3C'
      logClientIp: true
      sampling: {
        samplingType: 'fixed'
        percentage: 100
      }
      // Custom metrics (the policy's azure-openai-emit-token-metric) reach Application Insights only with this on.
      metrics: true
    }
  }
]

output name string = apim.name
output gatewayUrl string = apim.properties.gatewayUrl
@description('The system-assigned identity\'s object id, or empty without one.')
output systemAssignedPrincipalId string = systemAssignedIdentity ? apim.identity.principalId : ''
