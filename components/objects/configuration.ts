import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterPlan, SECRET_KEYS, VOLUME_GENERATION_LABEL, settingEnvName } from "../plan";
import { GENERATED_MQTT_USER, MANAGEMENT_APP, authSecretNames, generatedUsersFile } from "../auth";
import { autoNamedMetadata, namedMetadata } from "./metadata";

/** The EMQX settings as `EMQX_*` variables, loaded with `envFrom`. Holds nothing secret. */
export function buildSettingsConfigMap(plan: ClusterPlan): k8s.core.v1.ConfigMapArgs {
    const data: Record<string, string> = {};
    for (const [path, value] of Object.entries(plan.settings)) {
        data[settingEnvName(path)] = value;
    }
    return { metadata: autoNamedMetadata(plan), data };
}

// Labels that follow the version and the volume generation; the credentials outlive both.
const CHANGING_LABELS = ["app.kubernetes.io/version", VOLUME_GENERATION_LABEL];

/** What the cluster keeps for its whole life: the values its nodes were first started with. */
export interface Credentials {
    /** Alphanumeric, never quoted: EMQX's scripts also pass it verbatim to `-setcookie`. */
    readonly cookie: pulumi.Input<string>;
    /** As given or generated; EMQX sets it on the first boot only. */
    readonly dashboardPassword: pulumi.Input<string>;
}

/**
 * The Secret that keeps the cookie and the first dashboard password, under a fixed name: created once, never
 * replaced, its data never updated from the program (see `KEPT_SECRET_OPTIONS`). The pods read the cookie from it.
 */
export function buildCredentialsSecret(plan: ClusterPlan, credentials: Credentials): k8s.core.v1.SecretArgs {
    return keptSecret(plan, plan.names.credentialsSecret, {
        [SECRET_KEYS.cookie]: credentials.cookie,
        [SECRET_KEYS.dashboardPassword]: credentials.dashboardPassword,
    });
}

/**
 * A Secret whose values the cluster keeps for its whole life (see `KEPT_SECRET_OPTIONS`), under a fixed name and
 * with only labels that never change: an update of it would apply the recorded values again, over a value
 * recorded by hand (see the README's "Changing the dashboard password").
 */
function keptSecret(plan: ClusterPlan, name: string, data: Record<string, pulumi.Input<string>>): k8s.core.v1.SecretArgs {
    const metadata = namedMetadata(plan, name);
    const labels = Object.fromEntries(Object.entries(plan.labels).filter(([key]) => !CHANGING_LABELS.includes(key)));
    return {
        metadata: { ...metadata, labels },
        type: "Opaque",
        stringData: pulumi.secret(data) as pulumi.Input<Record<string, pulumi.Input<string>>>,
    };
}

/**
 * The generated MQTT user, kept like the credentials (EMQX imports a user once and keeps it in its database):
 * its name, its password and, for 5.x, the bootstrap file EMQX imports it from. The client credentials
 * `clientConfig` points at; never the dashboard account.
 */
export function buildMqttUserSecret(plan: ClusterPlan, password: pulumi.Input<string>): k8s.core.v1.SecretArgs {
    const { keys, username } = GENERATED_MQTT_USER;
    return keptSecret(plan, authSecretNames(plan.names.base).users, {
        [keys.username]: username,
        [keys.password]: password,
        [keys.bootstrapFile]: pulumi.output(password).apply(generatedUsersFile),
    });
}

/**
 * 4.x: the secret of the management API's default application, which replaces EMQX's `admin` / `public`. Kept:
 * EMQX adds the application on the first start only.
 */
export function buildManagementAppSecret(plan: ClusterPlan, appSecret: pulumi.Input<string>): k8s.core.v1.SecretArgs {
    return keptSecret(plan, authSecretNames(plan.names.base).managementApp, { [MANAGEMENT_APP.secretKey]: appSecret });
}

/** The secret settings the pods read as environment values, formatted for the version. */
export interface SecretSettings {
    /** The password the cluster keeps (from the credentials Secret), not necessarily the one given now. */
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
 * The secret settings, auto-named: a change (a new licence key, a version that formats values differently) gives
 * a new Secret under a new name, which rolls the pods.
 */
export function buildSecret(plan: ClusterPlan, values: SecretSettings): k8s.core.v1.SecretArgs {
    const stringData: Record<string, pulumi.Input<string>> = {
        [SECRET_KEYS.dashboardPassword]: asConfigValue(plan, values.dashboardPassword),
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
