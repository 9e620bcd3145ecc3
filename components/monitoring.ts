/**
 * Scraping by the Prometheus Operator (`monitoring`): a ServiceMonitor or PodMonitor on the version's metrics
 * endpoint, with basic auth from a Secret where the release asks for it, and on 4.x the plugin that serves the
 * endpoint. The args types, their checks and their piece of the plan live here; `objects/monitoring.ts` builds the
 * object. The pods' `prometheus.io/*` annotations stay, for annotation-based scrapers.
 */
import * as pulumi from "@pulumi/pulumi";
import { isDns1123Subdomain, isPlainObject, labelKeyProblem, labelValueProblem } from "./validation";
import type { VersionProfile } from "./versions";

/** Which Prometheus Operator object scrapes the nodes. */
export const MonitorKind = {
    /** Selects the dashboard Service `<clusterName>-dashboard` and scrapes each of its endpoints (every Ready pod). */
    ServiceMonitor: "ServiceMonitor",
    /** Selects the pods directly, for Prometheus setups that watch PodMonitors only. */
    PodMonitor: "PodMonitor",
} as const;
export type MonitorKind = (typeof MonitorKind)[keyof typeof MonitorKind];

/** Basic auth credentials for the scraper, by reference: a Secret in the cluster's namespace. */
export interface MetricsBasicAuthArgs {
    /** Name of the Secret (in the cluster's namespace, where the Prometheus Operator reads it). Required. */
    secretName: pulumi.Input<string>;
    /** Key of the user name in the Secret. Default `username`. */
    usernameKey?: pulumi.Input<string>;
    /** Key of the password in the Secret. Default `password`. */
    passwordKey?: pulumi.Input<string>;
}

/** A Prometheus Operator scrape object on every node's metrics endpoint. Needs the operator's CRDs in the cluster. */
export interface MonitoringArgs {
    /**
     * `ServiceMonitor` (default) or `PodMonitor`. A plain value: it decides which object exists. Changing it replaces
     * the one object with the other.
     */
    kind?: MonitorKind;
    /**
     * Extra labels of the object, e.g. `{ release: "kube-prometheus-stack" }`, the label a Prometheus's
     * `serviceMonitorSelector`/`podMonitorSelector` picks. The component's own labels (`app.kubernetes.io/*`, the
     * volume generation) are refused. Default none.
     */
    labels?: pulumi.Input<{ [key: string]: pulumi.Input<string> }>;
    /** How often to scrape, a Prometheus duration such as `30s` or `1m`. Default: the Prometheus's scrape interval. */
    interval?: pulumi.Input<string>;
    /** How long a scrape may take, a Prometheus duration, at most `interval`. Default: the Prometheus's. */
    scrapeTimeout?: pulumi.Input<string>;
    /**
     * Credentials for releases whose metrics endpoint asks for them: EMQX 4.0-4.3.21 and 4.4.0-4.4.10 (a management
     * application's AppID/AppSecret), 5.0.0 (an API key or dashboard user), 5.4+ with
     * `emqxConfig["prometheus.enable_basic_auth"] = "true"` (an API key). Required there, refused with the reason
     * when missing; accepted elsewhere (EMQX ignores them). Never a plain value: the Secret is read by the operator.
     */
    basicAuth?: pulumi.Input<MetricsBasicAuthArgs>;
}

type Monitoring = pulumi.Unwrap<MonitoringArgs>;

/** A Secret key reference, as the Prometheus Operator's `basicAuth` takes it. */
interface SecretKeyRef {
    readonly name: string;
    readonly key: string;
}

/** The plan's piece: what the builder puts into the ServiceMonitor or PodMonitor. */
export interface MonitoringPlan {
    readonly kind: MonitorKind;
    readonly labels: Readonly<Record<string, string>>;
    readonly endpoint: {
        /** The name of the Service port (ServiceMonitor) or container port (PodMonitor) that serves the metrics. */
        readonly port: string;
        readonly path: string;
        readonly params?: Readonly<Record<string, string[]>>;
        readonly interval?: string;
        readonly scrapeTimeout?: string;
        readonly basicAuth?: { readonly username: SecretKeyRef; readonly password: SecretKeyRef };
    };
}

/** Whether the pods serve the metrics endpoint: always on 5.x; on 4.x only with `monitoring`, which loads the plugin. */
export function metricsServed(version: Pick<VersionProfile, "metricsPlugin">, monitoring: unknown): boolean {
    return version.metricsPlugin === undefined || monitoring !== undefined;
}

/** The pieces of a release's metrics endpoint: port, path and query (4.x passes `type=prometheus`). */
export function metricsEndpoint(version: Pick<VersionProfile, "prometheusPort" | "prometheusPath">): {
    port: number;
    path: string;
    params: Record<string, string[]>;
} {
    const url = new URL(version.prometheusPath, "http://host");
    const params: Record<string, string[]> = {};
    url.searchParams.forEach((value, key) => (params[key] = [...(params[key] ?? []), value]));
    return { port: version.prometheusPort, path: url.pathname, params };
}

// The Prometheus Operator's Duration pattern (monitoring.coreos.com/v1, e.g. ServiceMonitor endpoints[].interval).
const DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;
const DURATION_MS: Record<string, number> = { y: 365 * 86400e3, w: 7 * 86400e3, d: 86400e3, h: 3600e3, m: 60e3, s: 1e3, ms: 1 };

/** Milliseconds of a Prometheus duration such as `1m30s`; undefined when it is not one. */
export function durationMs(value: string): number | undefined {
    if (value === "" || !DURATION.test(value)) {
        return undefined;
    }
    return [...value.matchAll(/([0-9]+)(ms|y|w|d|h|m|s)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * DURATION_MS[unit], 0);
}

// Kubernetes' Secret data key rule.
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** Whether the release's metrics endpoint asks for credentials with these EMQX settings. */
export function metricsNeedAuth(version: VersionProfile, emqxConfig: Readonly<Record<string, string>>): boolean {
    const { required, setting } = version.metricsAuth;
    return required === "always" || (required === "setting" && setting !== undefined && emqxConfig[setting]?.trim() === "true");
}

function basicAuthProblems(auth: Monitoring["basicAuth"]): string[] {
    if (auth === undefined) {
        return [];
    }
    if (!isPlainObject(auth)) {
        return [`monitoring.basicAuth: must be an object such as { secretName: "emqx-metrics-auth" }`];
    }
    const problems: string[] = [];
    if (typeof auth.secretName !== "string" || !isDns1123Subdomain(auth.secretName)) {
        problems.push(`monitoring.basicAuth.secretName: ${JSON.stringify(auth.secretName)} is not a Secret name; give the name of a Secret in the cluster's namespace`);
    }
    for (const field of ["usernameKey", "passwordKey"] as const) {
        const key = auth[field];
        if (key !== undefined && (typeof key !== "string" || !SECRET_KEY.test(key) || key.length > 253)) {
            problems.push(`monitoring.basicAuth.${field}: ${JSON.stringify(key)} is not a Secret key (letters, digits, '-', '_', '.')`);
        }
    }
    return problems;
}

/** What is wrong with `monitoring` (known values), as `field: message`. */
export function monitoringProblems(
    monitoring: Monitoring | undefined,
    context: {
        readonly version: VersionProfile;
        readonly emqxConfig: Readonly<Record<string, string>>;
        readonly ownedLabels: Readonly<Record<string, string>>;
    },
): string[] {
    if (monitoring === undefined) {
        return [];
    }
    if (!isPlainObject(monitoring)) {
        return [`monitoring: must be an object such as { kind: "ServiceMonitor", labels: { release: "prometheus" } }`];
    }
    const problems: string[] = [];
    const kind = monitoring.kind ?? MonitorKind.ServiceMonitor;
    if (!Object.values(MonitorKind).includes(kind)) {
        problems.push(`monitoring.kind: "${kind}" must be one of ${Object.values(MonitorKind).join(", ")}`);
    }
    const labels = monitoring.labels ?? {};
    if (!isPlainObject(labels)) {
        problems.push(`monitoring.labels: must be an object of label names to values`);
    }
    for (const [key, value] of Object.entries(isPlainObject(labels) ? labels : {})) {
        const problem =
            (key in context.ownedLabels ? `the component sets it on every object it creates; remove it` : undefined) ??
            labelKeyProblem(key) ??
            (typeof value === "string" ? labelValueProblem(value) : `must be a string`);
        if (problem) {
            problems.push(`monitoring.labels["${key}"]: ${problem}`);
        }
    }
    const durations: Partial<Record<"interval" | "scrapeTimeout", number>> = {};
    for (const field of ["interval", "scrapeTimeout"] as const) {
        const value = monitoring[field];
        if (value === undefined) {
            continue;
        }
        const ms = typeof value === "string" ? durationMs(value) : undefined;
        if (ms === undefined) {
            problems.push(`monitoring.${field}: ${JSON.stringify(value)} is not a Prometheus duration such as 30s, 1m or 1m30s`);
        } else {
            durations[field] = ms;
        }
    }
    if (durations.interval !== undefined && durations.scrapeTimeout !== undefined && durations.scrapeTimeout > durations.interval) {
        problems.push(
            `monitoring.scrapeTimeout: ${monitoring.scrapeTimeout} is longer than interval ${monitoring.interval}, which ` +
                `Prometheus refuses (a scrape must end before the next starts); shorten it or lengthen interval`,
        );
    }
    problems.push(...basicAuthProblems(monitoring.basicAuth));
    const { version } = context;
    if (monitoring.basicAuth === undefined && metricsNeedAuth(version, context.emqxConfig)) {
        const why =
            version.metricsAuth.required === "setting"
                ? `emqxConfig sets ${version.metricsAuth.setting} = true`
                : `EMQX ${version.version} answers its metrics endpoint only to authenticated requests`;
        problems.push(
            `monitoring.basicAuth: required: ${why}, so every scrape would get 401; create a Secret with ` +
                `${version.metricsAuth.credentials} under the keys username and password, and give its name as ` +
                `monitoring.basicAuth.secretName`,
        );
    }
    if (version.metricsPlugin && context.emqxConfig.loaded_plugins !== undefined) {
        problems.push(
            `emqxConfig["loaded_plugins"]: monitoring loads ${version.metricsPlugin.name} with the image's default ` +
                `plugins through EMQX_LOADED_PLUGINS; remove it (load other plugins with emqx_ctl plugins load, which ` +
                `keeps them in the data volume)`,
        );
    }
    return problems;
}

/** Warnings about monitoring on this release that do not stop a deployment. */
export function monitoringWarnings(version: VersionProfile): string[] {
    const plugin = version.metricsPlugin;
    return plugin?.rewritesPluginList
        ? [
              `monitoring: the EMQX ${version.version} image rewrites data/loaded_plugins from EMQX_LOADED_PLUGINS on ` +
                  `every start, so only ${[...plugin.defaultPlugins, plugin.name].join(", ")} stay loaded across ` +
                  `restarts; a plugin loaded later with emqx_ctl or the dashboard is unloaded by the next restart ` +
                  `(EMQX 4.2.4 and later merge the list instead)`,
          ]
        : [];
}

/** The 4.x plugin monitoring needs loaded (none on 5.x, or without `monitoring`). */
export function monitoringPlugins(monitoring: Monitoring | undefined, version: VersionProfile): string[] {
    return monitoring !== undefined && version.metricsPlugin ? [version.metricsPlugin.name] : [];
}

/**
 * `loaded_plugins` (the pods' EMQX_LOADED_PLUGINS, which the 4.x entrypoints read) for the plugins the component's
 * features need, after the image's default plugins: on an empty data volume the entrypoint writes a plugin list of
 * only the ones named, so leaving the defaults out would unload the dashboard and the management API the probes use.
 * Empty when no feature needs a plugin, so the image's own list stands.
 */
export function loadedPluginsSetting(version: VersionProfile, plugins: readonly string[]): Record<string, string> {
    const defaults = version.metricsPlugin?.defaultPlugins;
    return plugins.length > 0 && defaults ? { loaded_plugins: [...new Set([...defaults, ...plugins])].join(",") } : {};
}

/** Decides the scrape object from checked args; undefined when `monitoring` is not given. */
export function planMonitoring(
    monitoring: Monitoring | undefined,
    context: { readonly version: VersionProfile; readonly portName: string; readonly labels: Readonly<Record<string, string>> },
): MonitoringPlan | undefined {
    if (monitoring === undefined) {
        return undefined;
    }
    const { path, params } = metricsEndpoint(context.version);
    const auth = monitoring.basicAuth;
    return {
        kind: monitoring.kind ?? MonitorKind.ServiceMonitor,
        labels: { ...(monitoring.labels ?? {}), ...context.labels },
        endpoint: {
            port: context.portName,
            path,
            ...(Object.keys(params).length > 0 ? { params } : {}),
            ...(monitoring.interval !== undefined ? { interval: monitoring.interval } : {}),
            ...(monitoring.scrapeTimeout !== undefined ? { scrapeTimeout: monitoring.scrapeTimeout } : {}),
            ...(auth !== undefined
                ? {
                      basicAuth: {
                          username: { name: auth.secretName, key: auth.usernameKey ?? "username" },
                          password: { name: auth.secretName, key: auth.passwordKey ?? "password" },
                      },
                  }
                : {}),
        },
    };
}
