import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'tree-sitter';
import Bicep from 'tree-sitter-bicep';
import { describe, expect, it } from 'vitest';
import { COSMOS_CONTAINERS } from '../../shared/adapters/cosmos/containers.js';
import { loadConfig, settingsSchema } from '../../shared/config.js';

/**
 * Keeps infra/ (Bicep) and the app in step: the Function App's app settings must satisfy the app's config
 * schema as it runs in Azure, and the names both sides share (queue, containers, databases) must match.
 * Bicep is read with tree-sitter-bicep: no Bicep compiler is needed.
 */

const infraDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'infra');

const parser = new Parser();
parser.setLanguage(Bicep as unknown as Parser.Language);

type SyntaxNode = Parser.SyntaxNode;

/** A Bicep expression that is not a literal, kept as its source text. */
class Expression {
  constructor(readonly text: string) {}
}

type BicepValue =
  string | number | boolean | null | Expression | BicepValue[] | { [key: string]: BicepValue };

function parseBicep(relativePath: string): SyntaxNode {
  const tree = parser.parse(readFileSync(join(infraDir, relativePath), 'utf8'));
  if (tree.rootNode.hasError) throw new Error(`${relativePath} does not parse`);
  return tree.rootNode;
}

const meaningful = (node: SyntaxNode): SyntaxNode[] => node.namedChildren.filter((c) => c.type !== 'comment');

function stringLiteral(node: SyntaxNode): string | undefined {
  if (node.type !== 'string') return undefined;
  let out = '';
  for (const part of node.namedChildren) {
    if (part.type === 'string_content') out += part.text;
    else if (part.type === 'escape_sequence') out += part.text.slice(1);
    else return undefined; // an interpolation: not a literal
  }
  return out;
}

/** Turns a literal Bicep value (string, number, bool, null, array, object) into JS; anything else into an Expression. */
function toValue(node: SyntaxNode): BicepValue {
  switch (node.type) {
    case 'string':
      return stringLiteral(node) ?? new Expression(node.text);
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array':
      return meaningful(node).map(toValue);
    case 'object': {
      const out: { [key: string]: BicepValue } = {};
      for (const property of meaningful(node)) {
        if (property.type !== 'object_property') continue;
        const [key, value] = meaningful(property);
        if (!key || !value) continue;
        out[stringLiteral(key) ?? key.text] = toValue(value);
      }
      return out;
    }
    default:
      return new Expression(node.text);
  }
}

function declarations(root: SyntaxNode, type: string): Map<string, SyntaxNode> {
  const out = new Map<string, SyntaxNode>();
  for (const node of meaningful(root)) {
    if (node.type !== type) continue;
    const name = node.namedChildren.find((c) => c.type === 'identifier');
    if (name) out.set(name.text, node);
  }
  return out;
}

/** `var x = <value>`: the value of x. */
function variable(root: SyntaxNode, name: string): BicepValue {
  const node = declarations(root, 'variable_declaration').get(name);
  const value = node?.namedChildren.at(-1);
  if (!value) throw new Error(`var ${name} not found`);
  return toValue(value);
}

/** `param x <type> = <default>`: the literal default of every param that has one. */
function paramDefaults(root: SyntaxNode): Map<string, BicepValue> {
  const out = new Map<string, BicepValue>();
  for (const [name, node] of declarations(root, 'parameter_declaration')) {
    if (!node.children.some((c) => c.type === '=')) continue;
    const value = node.namedChildren.at(-1);
    if (value) out.set(name, toValue(value));
  }
  return out;
}

const asRecord = (value: BicepValue | undefined): { [key: string]: BicepValue } | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Expression)
    ? value
    : undefined;

/** The params object passed to `module <name> '...' = { params: {...} }`. */
function moduleParams(root: SyntaxNode, name: string): { [key: string]: BicepValue } {
  const node = declarations(root, 'module_declaration').get(name);
  const body = node?.namedChildren.find((c) => c.type === 'object');
  if (!body) throw new Error(`module ${name} not found`);
  const params = asRecord(asRecord(toValue(body))?.params);
  if (!params) throw new Error(`module ${name} has no params object`);
  return params;
}

/** Every object property `<key>: ...` anywhere under root. */
function propertiesNamed(root: SyntaxNode, key: string): SyntaxNode[] {
  return root.descendantsOfType('object_property').filter((p) => meaningful(p)[0]?.text === key);
}

const exprText = (value: BicepValue | undefined): string | undefined =>
  value instanceof Expression ? value.text : undefined;

// --- the Function App's app settings ---------------------------------------------------------------------

const functionApp = parseBicep('modules/functionapp.bicep');
const functionAppDefaults = paramDefaults(functionApp);

function appSettings(): { name: string; value: BicepValue }[] {
  const [property] = propertiesNamed(functionApp, 'appSettings');
  const array = property ? meaningful(property)[1] : undefined;
  if (array?.type !== 'array') throw new Error('siteConfig.appSettings array not found');
  return meaningful(array).map((entry) => {
    const setting = asRecord(toValue(entry));
    if (!setting) throw new Error(`app setting is not an object: ${entry.text}`);
    if (typeof setting.name !== 'string') throw new Error(`app setting name is not a literal: ${entry.text}`);
    return { name: setting.name, value: setting.value ?? null };
  });
}

/** The value every client-id setting gets here: seen in the config only if Bicep sets the setting. */
const PLACEHOLDER_CLIENT_ID = '11111111-2222-3333-4444-555555555555';

/** A plausible Azure value for a setting whose Bicep value is computed at deploy time. */
function placeholder(name: string): string {
  const known: Record<string, string> = {
    POSTGRES_HOST: 'myserver.postgres.database.azure.com',
    POSTGRES_USER: 'id-fieldsync-abc123',
    // What main.bicep passes with postgresExtraServerCount = 1.
    POSTGRES_SERVERS: '[{"name":"pg2","host":"myserver-2.postgres.database.azure.com"}]',
    CosmosConnection__accountEndpoint: 'https://cosmos-abc123.documents.azure.com:443/',
    StorageConnection__blobServiceUri: 'https://stabc123.blob.core.windows.net/',
    ServiceBusConnection__fullyQualifiedNamespace: 'sb-abc123.servicebus.windows.net',
    AUTH_ISSUER: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
    AUTH_AUDIENCE: 'api://fieldsync',
    AUTH_JWKS_URL:
      'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/discovery/v2.0/keys',
    APPLICATIONINSIGHTS_CONNECTION_STRING:
      'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x.in.applicationinsights.azure.com/',
  };
  if (known[name]) return known[name];
  if (/clientId$|CLIENT_ID$/.test(name)) return PLACEHOLDER_CLIENT_ID;
  if (/(Uri|Endpoint|_URL)$/.test(name)) return 'https://example.azure.com/';
  return `placeholder-${name}`;
}

const mainBicep = parseBicep('main.bicep');

/**
 * The deploy-time-independent value of an app setting: a literal, or a functionapp.bicep param that main.bicep
 * passes a literal or a `var` (through `string(...)` too). Anything computed by Azure (an output of a resource)
 * is undefined.
 */
function resolveSetting(value: BicepValue): string | number | boolean | undefined {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (!(value instanceof Expression)) return undefined;
  const asString = /^string\((\w+)\)$/.exec(value.text);
  if (asString?.[1]) {
    const inner = resolveSetting(new Expression(asString[1]));
    return inner === undefined ? undefined : String(inner);
  }
  if (!/^\w+$/.test(value.text)) return undefined;
  const passed = moduleParams(mainBicep, 'functionApp')[value.text];
  if (passed === undefined) return undefined;
  if (typeof passed === 'string' || typeof passed === 'number' || typeof passed === 'boolean') return passed;
  const text = exprText(passed);
  if (text && declarations(mainBicep, 'variable_declaration').has(text)) {
    const v = variable(mainBicep, text);
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
  }
  return undefined;
}

/** The environment the Function App gets in Azure, as far as Bicep decides it. */
function azureEnvironment(): Record<string, string> {
  const env: Record<string, string> = { WEBSITE_SITE_NAME: 'func-abc123' };
  for (const { name, value } of appSettings()) {
    const resolved = resolveSetting(value);
    if (resolved !== undefined) {
      env[name] = String(resolved);
      continue;
    }
    // A param of the module with a literal default (e.g. LOG_LEVEL) takes that default.
    const fromParam = value instanceof Expression ? functionAppDefaults.get(value.text) : undefined;
    env[name] = typeof fromParam === 'string' ? fromParam : placeholder(name);
  }
  return env;
}

/** Settings the Functions host reads itself, not the app's config schema. */
const hostSetting = (name: string) =>
  /^AzureWebJobsStorage__/.test(name) ||
  /^APPLICATIONINSIGHTS_/.test(name) ||
  /^(CosmosConnection|StorageConnection|ServiceBusConnection)__(credential|clientId)$/.test(name);

const schemaDefault = (key: keyof typeof settingsSchema.shape): unknown =>
  settingsSchema.shape[key].parse(undefined);

describe('infra drift: Function App settings (functionapp.bicep) against shared/config.ts', () => {
  it('sets every setting the app requires in Azure: loadConfig accepts them', () => {
    const env = azureEnvironment();
    const config = loadConfig(env);
    expect(config.inAzure).toBe(true);
    expect(config.postgres).toMatchObject({ kind: 'entra', port: 5432 });
    expect(config.cosmos.connection.kind).toBe('identity');
    expect(config.blob.connection.kind).toBe('identity');
    expect(config.queue).toMatchObject({ driver: 'servicebus', connection: { kind: 'identity' } });
    expect(config.auth.mode).toBe('oidc');
    // The placeholder reaches the config only if Bicep sets AZURE_CLIENT_ID (toBeDefined() would pass on
    // any value at all).
    expect(config.managedIdentityClientId).toBe(PLACEHOLDER_CLIENT_ID);
  });

  it('would fail if a required setting were missing (the check above can fail)', () => {
    const env = azureEnvironment();
    delete env.POSTGRES_HOST;
    expect(() => loadConfig(env)).toThrow(/POSTGRES_URL/);
  });

  it('names only settings the app or the Functions host reads (no typos)', () => {
    const known = new Set(Object.keys(settingsSchema.shape));
    const unknown = appSettings()
      .map((s) => s.name)
      .filter((name) => !known.has(name) && !hostSetting(name));
    expect(unknown).toEqual([]);
  });

  it('sets each setting once and carries no secret', () => {
    const settings = appSettings();
    const names = settings.map((s) => s.name);
    expect(names.length).toBe(new Set(names).size);
    for (const { name, value } of settings) {
      const text = value instanceof Expression ? value.text : String(value);
      expect(text, name).not.toMatch(/listKeys|listConnectionStrings|AccountKey=|SharedAccessKey|Password/i);
    }
  });

  it('uses the managed identity for every identity-based connection', () => {
    const env = azureEnvironment();
    for (const connection of [
      'AzureWebJobsStorage',
      'CosmosConnection',
      'StorageConnection',
      'ServiceBusConnection',
    ]) {
      expect(env[`${connection}__credential`], connection).toBe('managedidentity');
    }
    const byName = new Map(appSettings().map((s) => [s.name, s.value]));
    // Each connection's client id is the user-assigned identity's, not merely "some value".
    for (const connection of [
      'AzureWebJobsStorage',
      'CosmosConnection',
      'StorageConnection',
      'ServiceBusConnection',
    ])
      expect(exprText(byName.get(`${connection}__clientId`)), connection).toBe('identityClientId');
    expect(exprText(byName.get('POSTGRES_USER'))).toBe('identityName');
    expect(exprText(byName.get('AZURE_CLIENT_ID'))).toBe('identityClientId');
  });
});

const functionsDir = join(infraDir, '..', 'functions');

/** The `%NAME%` app-setting references and `connection: '...'` names in the function registrations. */
function bindingReferences(): { settings: Map<string, string>; connections: Map<string, string> } {
  const settings = new Map<string, string>();
  const connections = new Map<string, string>();
  // Recursive: the compat dialects register their functions in functions/compat/<dialect>/.
  for (const file of readdirSync(functionsDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
    f.endsWith('.ts'),
  )) {
    const source = readFileSync(join(functionsDir, file), 'utf8');
    for (const [, name] of source.matchAll(/%(\w+)%/g)) if (name) settings.set(name, file);
    for (const [, name] of source.matchAll(/\bconnection:\s*'(\w+)'/g)) if (name) connections.set(name, file);
  }
  return { settings, connections };
}

/** What the Functions host cannot resolve from these app setting names (empty when all resolve). */
function unresolvedBindings(settingNames: string[]): string[] {
  const names = new Set(settingNames);
  const { settings, connections } = bindingReferences();
  return [
    ...[...settings].filter(([name]) => !names.has(name)).map(([name, file]) => `%${name}% (${file})`),
    ...[...connections]
      .filter(([name]) => !names.has(name) && !settingNames.some((n) => n.startsWith(`${name}__`)))
      .map(([name, file]) => `connection ${name} (${file})`),
  ];
}

/**
 * App settings and site properties the Flex Consumption plan does not accept: they moved to functionAppConfig
 * (runtime, scale, deployment storage) or do not exist there. Source: "Flex Consumption plan deprecations" in
 * learn.microsoft.com/azure/azure-functions/functions-app-settings.
 */
const FLEX_REJECTED_SETTINGS = [
  'FUNCTIONS_EXTENSION_VERSION',
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_WORKER_RUNTIME_VERSION',
  'FUNCTIONS_MAX_HTTP_CONCURRENCY',
  'FUNCTIONS_WORKER_PROCESS_COUNT',
  'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED',
  'SCM_DO_BUILD_DURING_DEPLOYMENT',
  'ENABLE_ORYX_BUILD',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTOVERVNET',
  'WEBSITE_CONTENTSHARE',
  'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
  'WEBSITE_DNS_SERVER',
  'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_VNET_ROUTE_ALL',
  'WEBSITE_MOUNT_ENABLED',
  'WEBSITE_TIME_ZONE',
  'TZ',
  'PYTHON_ISOLATE_WORKER_DEPENDENCIES',
  // A connection string: shared keys are off on the account, and the host must use the identity
  // (AzureWebJobsStorage__accountName / __credential / __clientId).
  'AzureWebJobsStorage',
];
const FLEX_REJECTED_SITE_CONFIG = [
  'alwaysOn',
  'linuxFxVersion',
  'functionAppScaleLimit',
  'minimumElasticInstanceCount',
  'preWarmedInstanceCount',
  'javaVersion',
  'netFrameworkVersion',
  'powerShellVersion',
  'use32BitWorkerProcess',
  'containerSize',
];

describe('infra drift: values that must agree between Bicep and the app', () => {
  it('every %SETTING% and connection in a function binding is an app setting Bicep sets', () => {
    const names = appSettings().map((s) => s.name);
    const { settings, connections } = bindingReferences();
    expect(settings.has('SYNC_QUEUE_NAME')).toBe(true); // the trigger's queue name
    expect(connections.has('ServiceBusConnection')).toBe(true);
    expect(unresolvedBindings(names)).toEqual([]);
    // A schema default is no help to the host: without the setting, %SYNC_QUEUE_NAME% does not resolve.
    expect(unresolvedBindings(names.filter((n) => n !== 'SYNC_QUEUE_NAME'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^%SYNC_QUEUE_NAME%/)]),
    );
  });

  it("QUEUE_MAX_DELIVERY_COUNT is the queue's maxDeliveryCount", () => {
    const env = azureEnvironment();
    const deliveries = variable(mainBicep, 'maxDeliveryCount');
    expect(typeof deliveries).toBe('number');
    expect(loadConfig(env).queue.maxDeliveryCount).toBe(deliveries);
    expect(env.QUEUE_MAX_DELIVERY_COUNT).toBe(String(deliveries));
    // The same var reaches the queue: main.bicep -> servicebus.bicep param -> the queue's property.
    expect(exprText(moduleParams(mainBicep, 'serviceBus').maxDeliveryCount)).toBe('maxDeliveryCount');
    const serviceBus = parseBicep('modules/servicebus.bicep');
    const [property] = propertiesNamed(serviceBus, 'maxDeliveryCount');
    expect(property ? meaningful(property)[1]?.text : undefined).toBe('maxDeliveryCount');
    // ...and the alert that counts dead letters.
    expect(exprText(moduleParams(mainBicep, 'alerts').maxDeliveryCount)).toBe('maxDeliveryCount');
  });

  it("every client id setting is the user-assigned identity's clientId", () => {
    const identityParam = exprText(moduleParams(mainBicep, 'functionApp').identityClientId);
    expect(identityParam).toBe('identity.outputs.clientId');
    const identity = parseBicep('modules/identity.bicep');
    const output = declarations(identity, 'output_declaration').get('clientId');
    expect(output?.namedChildren.at(-1)?.text).toBe('identity.properties.clientId');
    const clientIdSettings = appSettings().filter((s) => /(__clientId|^AZURE_CLIENT_ID)$/.test(s.name));
    expect(clientIdSettings.length).toBeGreaterThanOrEqual(5);
    for (const { name, value } of clientIdSettings) expect(exprText(value), name).toBe('identityClientId');
    // The identity the site runs as is the same one.
    expect(exprText(moduleParams(mainBicep, 'functionApp').identityId)).toBe('identity.outputs.id');
    const [auth] = appSettings().filter((s) => s.name === 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
    expect(exprText(auth?.value)).toBe("'ClientId=${identityClientId};Authorization=AAD'");
  });

  it('the queue and container names the app uses are the ones Bicep creates and grants roles on', () => {
    const settings = new Map(appSettings().map((s) => [s.name, s.value]));
    expect(exprText(settings.get('SYNC_QUEUE_NAME'))).toBe('syncQueueName');
    expect(exprText(settings.get('PHOTOS_CONTAINER'))).toBe('photosContainerName');
    expect(exprText(settings.get('COSMOS_DATABASE'))).toBe('cosmosDatabase');
    expect(exprText(settings.get('POSTGRES_DATABASE'))).toBe('postgresDatabase');
    const fa = moduleParams(mainBicep, 'functionApp');
    expect(exprText(fa.cosmosDatabase)).toBe('cosmos.outputs.databaseName');
    expect(exprText(fa.postgresDatabase)).toBe('postgres.outputs.databaseName');
    const roles = moduleParams(mainBicep, 'roles');
    expect(exprText(roles.queueName)).toBe('serviceBus.outputs.queueName');
    expect(exprText(roles.photosContainerName)).toBe('storage.outputs.photosContainerName');
    // The deployment container the site reads its package from is the one storage.bicep creates.
    expect(exprText(fa.deploymentContainerName)).toBe('deploymentContainerName');
    expect(exprText(moduleParams(mainBicep, 'storage').deploymentContainerName)).toBe(
      'deploymentContainerName',
    );
  });

  it('sets no app setting or site property the Flex Consumption plan rejects', () => {
    const names = appSettings().map((s) => s.name.toUpperCase());
    const rejected = FLEX_REJECTED_SETTINGS.filter((n) => names.includes(n.toUpperCase()));
    expect(rejected).toEqual([]);
    const [siteConfig] = propertiesNamed(functionApp, 'siteConfig');
    const body = siteConfig ? meaningful(siteConfig)[1] : undefined;
    const keys = Object.keys(asRecord(body ? toValue(body) : undefined) ?? {});
    expect(keys).toContain('appSettings');
    expect(keys.filter((k) => FLEX_REJECTED_SITE_CONFIG.includes(k))).toEqual([]);
    // The runtime is declared where Flex reads it.
    const [runtime] = propertiesNamed(functionApp, 'runtime');
    const value = runtime ? asRecord(toValue(meaningful(runtime)[1] as SyntaxNode)) : undefined;
    expect(value).toMatchObject({ name: 'node' });
  });
});

describe('infra drift: names shared by Bicep and the app', () => {
  const main = mainBicep;

  it('the Service Bus queue is SYNC_QUEUE_NAME', () => {
    expect(variable(main, 'syncQueueName')).toBe(schemaDefault('SYNC_QUEUE_NAME'));
    expect(exprText(moduleParams(main, 'serviceBus').queueName)).toBe('syncQueueName');
    expect(exprText(moduleParams(main, 'functionApp').syncQueueName)).toBe('serviceBus.outputs.queueName');
  });

  it('the photos container is PHOTOS_CONTAINER', () => {
    expect(variable(main, 'photosContainerName')).toBe(schemaDefault('PHOTOS_CONTAINER'));
    expect(exprText(moduleParams(main, 'storage').photosContainerName)).toBe('photosContainerName');
    expect(exprText(moduleParams(main, 'functionApp').photosContainerName)).toBe(
      'storage.outputs.photosContainerName',
    );
  });

  it('the Cosmos DB and Postgres database names are the config defaults', () => {
    expect(variable(main, 'cosmosDatabaseName')).toBe(schemaDefault('COSMOS_DATABASE'));
    expect(variable(main, 'postgresDatabaseName')).toBe(schemaDefault('POSTGRES_DATABASE'));
    expect(exprText(moduleParams(main, 'cosmos').databaseName)).toBe('cosmosDatabaseName');
    expect(exprText(moduleParams(main, 'postgres').databaseName)).toBe('postgresDatabaseName');
  });

  it('one Postgres server by default; postgresExtraServerCount adds tenant servers the app accepts by name', () => {
    // Prepare: the parameter, its bound and the name template main.bicep gives the app and azd.
    const text = readFileSync(join(infraDir, 'main.bicep'), 'utf8');
    expect(paramDefaults(main).get('postgresExtraServerCount')).toBe(0);
    const max = Number(/@maxValue\((\d+)\)\s*param postgresExtraServerCount int/.exec(text)?.[1]);
    expect(max).toBeGreaterThan(0);
    const templates = [
      ...text.matchAll(
        /for i in range\(0, postgresExtraServerCount\): \{\s*name: '([^']+)'\s*host: postgresExtra\[i\]\.outputs\.hostName/g,
      ),
    ].map((m) => m[1]);
    // The app setting (functionApp module) and the azd output, the same names.
    expect(templates).toHaveLength(2);
    expect(new Set(templates).size).toBe(1);
    // Act: every name the largest deployment gets, as the Function App would see them.
    const names = Array.from({ length: max }, (_, i) =>
      (templates[0] ?? '').replace('${i + 2}', String(i + 2)),
    );
    const env = {
      ...azureEnvironment(),
      POSTGRES_SERVERS: JSON.stringify(
        names.map((name) => ({ name, host: `${name}.postgres.database.azure.com` })),
      ),
    };
    // Assess: valid, distinct from the control server's default name, in order.
    expect(loadConfig(env).postgresServers.map((s) => s.name)).toEqual(['primary', ...names]);
    // The module runs once per extra server, without a control database.
    expect(text).toMatch(
      /module postgresExtra 'modules\/postgres\.bicep' = \[\s*for i in range\(0, postgresExtraServerCount\)/,
    );
    expect(text).toMatch(/databaseName: ''/);
  });

  it('the Cosmos DB containers are COSMOS_CONTAINERS (name, partition key, TTL)', () => {
    const cosmos = parseBicep('modules/cosmos.bicep');
    const expected = Object.values(COSMOS_CONTAINERS).map((c) => ({
      name: c.name,
      partitionKey: c.partitionKey,
      defaultTtl: c.defaultTtlSeconds ?? null,
    }));
    expect(variable(cosmos, 'containers')).toEqual(expected);
  });

  it("browser origins (CORS) are the Function App's platform CORS from one parameter, not an app setting", () => {
    // In Azure the platform answers preflights and adds Access-Control-Allow-Origin; the app's own
    // CORS_ALLOWED_ORIGINS is for the local host only (shared/config.ts refuses it in Azure).
    expect(exprText(moduleParams(main, 'functionApp').corsAllowedOrigins)).toBe('corsAllowedOrigins');
    const [cors] = propertiesNamed(functionApp, 'cors');
    const value = cors ? asRecord(toValue(meaningful(cors)[1] as SyntaxNode)) : undefined;
    expect(exprText(value?.allowedOrigins)).toBe('corsAllowedOrigins');
    expect(value?.supportCredentials ?? false).toBe(false); // bearer tokens, never cookies
    expect(functionAppDefaults.get('corsAllowedOrigins')).toEqual([]);
    expect(appSettings().map((s) => s.name)).not.toContain('CORS_ALLOWED_ORIGINS');
  });

  it('the queue keeps the delivery guarantees the processor relies on', () => {
    const serviceBus = parseBicep('modules/servicebus.bicep');
    const [properties] = propertiesNamed(serviceBus, 'properties').filter((p) =>
      p.text.includes('requiresDuplicateDetection'),
    );
    const body = properties ? meaningful(properties)[1] : undefined;
    expect(body, 'queue properties').toBeDefined();
    const queue = body ? toValue(body) : {};
    expect(queue).toMatchObject({
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: 'PT1H',
      deadLetteringOnMessageExpiration: true,
      lockDuration: 'PT1M',
      requiresSession: false,
    });
    expect(paramDefaults(serviceBus).get('maxDeliveryCount')).toBe(10);
  });
});
