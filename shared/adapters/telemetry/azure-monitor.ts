import { azureCredential } from '../azure-credential.js';

/** The part of @azure/monitor-opentelemetry's options the app sets. */
interface AzureMonitorOptions {
  azureMonitorExporterOptions: { connectionString: string; credential?: unknown };
  instrumentationOptions?: Record<string, { enabled: boolean }>;
  enableLiveMetrics?: boolean;
}

/**
 * The package is loaded only when telemetry is on (it is heavy, and the local stack never needs it); the
 * specifier is a variable so the app builds and runs where the package is absent (then this throws, and
 * startTelemetry logs it).
 */
const PACKAGE: string = '@azure/monitor-opentelemetry';

/**
 * Starts the Azure Monitor OpenTelemetry distro: traces, metrics and logs to Application Insights. In Azure
 * the component's local (key) ingestion is off, so the exporter authenticates as the app's managed identity.
 */
export async function startAzureMonitor(settings: {
  connectionString: string;
  entraId: boolean;
  managedIdentityClientId: string | undefined;
}): Promise<void> {
  const sdk = (await import(PACKAGE)) as { useAzureMonitor(options: AzureMonitorOptions): void };
  sdk.useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: settings.connectionString,
      ...(settings.entraId ? { credential: azureCredential(settings.managedIdentityClientId) } : {}),
    },
    instrumentationOptions: {
      http: { enabled: true },
      azureSdk: { enabled: true },
      postgreSql: { enabled: true },
    },
    enableLiveMetrics: true,
  });
}
