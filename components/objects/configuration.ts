import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan, SECRET_KEYS, settingEnvName } from "../plan";
import { entrypointValueProblem } from "../validation";
import { autoNamedMetadata } from "./metadata";

/** The EMQX settings as `EMQX_*` variables, loaded with `envFrom`. Holds nothing secret. */
export function buildSettingsConfigMap(plan: ClusterPlan): k8s.core.v1.ConfigMapArgs {
    const data: Record<string, pulumi.Input<string>> = {};
    for (const [path, value] of Object.entries(plan.settings)) {
        data[settingEnvName(path)] = value;
    }
    return { metadata: autoNamedMetadata(plan), data };
}

/** The secret values the pods read, generated or given. */
export interface SecretValues {
    /** Alphanumeric, never quoted: EMQX's scripts also pass it verbatim to `-setcookie`. */
    readonly cookie: pulumi.Input<string>;
    readonly dashboardPassword: pulumi.Input<string>;
    readonly licenseKey?: pulumi.Input<string>;
}

/**
 * EMQX 5.x parses every environment value as HOCON: a `#` or `//` in a password or licence key would start a
 * comment and cut it short. A JSON string is a valid quoted HOCON string, so such values are quoted.
 */
function asConfigValue(plan: ClusterPlan, value: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.output(value).apply((v) => (plan.version.parsesHocon ? JSON.stringify(v) : v));
}

/**
 * The 4.0-4.2 entrypoints change some characters before EMQX reads a value: a password given as an Output is
 * checked here, once known (plain values are checked with the other args). The message never contains the value.
 */
function unmangled(plan: ClusterPlan, field: string, value: pulumi.Input<string>): pulumi.Input<string> {
    const problem = entrypointValueProblem(plan.version.version, plan.version.entrypoint);
    if (!plan.version.entrypoint) {
        return value;
    }
    return pulumi.output(value).apply((v) => {
        const found = problem(v);
        if (found) {
            throw new Error(`EmqxCluster: ${field}: ${found}`);
        }
        return v;
    });
}

export function buildSecret(plan: ClusterPlan, values: SecretValues): k8s.core.v1.SecretArgs {
    const stringData: Record<string, pulumi.Input<string>> = {
        [SECRET_KEYS.cookie]: values.cookie,
        [SECRET_KEYS.dashboardPassword]: asConfigValue(plan, unmangled(plan, "dashboard.password", values.dashboardPassword)),
    };
    if (values.licenseKey !== undefined) {
        stringData[SECRET_KEYS.licenseKey] = asConfigValue(plan, values.licenseKey);
    }
    return {
        metadata: autoNamedMetadata(plan),
        type: "Opaque",
        stringData: pulumi.secret(stringData) as pulumi.Input<Record<string, pulumi.Input<string>>>,
    };
}
