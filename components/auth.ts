/**
 * Client authentication and authorization, secret settings by reference and the 4.x management application: the
 * args types, their checks and their piece of the plan. The builders add `AuthPlan`'s settings to the ConfigMap,
 * its variables and mounts to the EMQX container and its volumes to the pod. EMQX facts: docs/emqx-facts.md,
 * "Client authentication".
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClientAuthSupport, VersionProfile } from "./versions";
import { isDns1123Subdomain, isPlainObject } from "./validation";

type Volume = pulumi.Unwrap<k8s.types.input.core.v1.Volume>;
type VolumeMount = pulumi.Unwrap<k8s.types.input.core.v1.VolumeMount>;

/** One key of a Secret in the cluster's namespace, as Kubernetes' `SecretKeySelector` names it. */
export interface SecretKeyRef {
    /** Name of the Secret. */
    name: pulumi.Input<string>;
    /** Key in the Secret's data. */
    key: pulumi.Input<string>;
}

/** Users of EMQX's built-in database, from a Secret you manage. */
export interface MqttUsersArgs {
    /** Name of an existing Secret in the cluster's namespace. */
    secretName: string;
    /**
     * The key holding EMQX's bootstrap file: CSV with the header `user_id,password,is_superuser` (key ending
     * `.csv`) or a JSON list of `{ "user_id", "password", "is_superuser" }` (key ending `.json`). Default `users.csv`.
     */
    key?: string;
}

/**
 * How MQTT clients authenticate. Plain values: they decide whether the component creates the generated user's
 * Secret.
 */
export interface AuthenticationArgs {
    /**
     * Let clients connect without credentials (EMQX's own default). Default `false`: password-based authentication
     * against EMQX's built-in database, anonymous clients refused. `true` configures no authentication at all, as
     * before this arg existed (then `emqxConfig` may set up authentication itself).
     */
    allowAnonymous?: boolean;
    /**
     * The users to import, from a Secret you manage (EMQX 5.7.2+, which imports a bootstrap file when the
     * authenticator starts; users already in the database are kept as they are). Default: a generated user `mqtt`
     * in the Secret `<clusterName>-mqtt-users` (outputs `mqttUsername`, `mqttPassword`).
     */
    users?: MqttUsersArgs;
}

/** Where the authorization rules (EMQX's ACL file) come from: exactly one of `configMapName` and `secretName`. */
export interface AuthorizationRulesArgs {
    /** An existing ConfigMap in the cluster's namespace. */
    configMapName?: pulumi.Input<string>;
    /** An existing Secret in the cluster's namespace. */
    secretName?: pulumi.Input<string>;
    /** The key holding the rules, in the release's `acl.conf` syntax (Erlang terms). Default `acl.conf`. */
    key?: pulumi.Input<string>;
}

/** What EMQX does with a publish or subscribe no authorization rule matches (`authorization.no_match`, `acl_nomatch`). */
export const AuthorizationNoMatch = {
    /** Let it through. */
    Allow: "allow",
    /** Refuse it. */
    Deny: "deny",
} as const;
export type AuthorizationNoMatch = (typeof AuthorizationNoMatch)[keyof typeof AuthorizationNoMatch];

/** What clients may publish and subscribe to: EMQX's file authorization source. */
export interface AuthorizationArgs {
    /** The rules file. Required. */
    rules: pulumi.Input<AuthorizationRulesArgs>;
    /** What happens to a request no rule matches: `allow` or `deny` (default). */
    noMatch?: pulumi.Input<AuthorizationNoMatch>;
}

/** The bootstrap file EMQX 5.x reads users from; `Secret` keys are mounted under it as files. */
export const MQTT_USERS_DIR = "/opt/emqx/etc/mqtt-users";
/** Where the authorization rules are mounted. */
export const ACL_DIR = "/opt/emqx/etc/acl";
/** Volume names the component uses for these mounts. */
export const AUTH_VOLUMES = { users: "mqtt-users", acl: "acl" } as const;

/** The user the component generates, and the keys of its Secret. */
export const GENERATED_MQTT_USER = {
    username: "mqtt",
    keys: { username: "username", password: "password", bootstrapFile: "users.csv" },
} as const;
/** The 4.x management application the component configures instead of `admin` / `public`, and its Secret's key. */
export const MANAGEMENT_APP = { id: "api", secretKey: "app-secret" } as const;

const DEFAULT_USERS_KEY = "users.csv";
const DEFAULT_ACL_KEY = "acl.conf";
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** Where clients' credentials are, for `clientConfig`: names and keys, never values. */
export interface ClientCredentialsPlan {
    /** The Secret holding them; undefined when there is none (anonymous, or users added in the dashboard). */
    readonly secretName?: string;
    /** Keys of the generated Secret's user name and password. */
    readonly usernameKey?: string;
    readonly passwordKey?: string;
    /** Key of the bootstrap file (5.7.2+). */
    readonly usersFileKey?: string;
}

/** The plan's piece for authentication, authorization, secret settings and the management application. */
export interface AuthPlan {
    readonly allowAnonymous: boolean;
    /** Non-secret EMQX settings by configuration path. */
    readonly settings: Readonly<Record<string, string>>;
    /** 4.x plugins to load next to the image's defaults (`loadedPluginsSetting` in plan.ts writes the list). */
    readonly plugins: readonly string[];
    /** Configuration paths whose values come from Secrets (as `EMQX_*` variables with `secretKeyRef`). */
    readonly secretSettings: readonly { readonly path: string; readonly secretName: string; readonly key: string }[];
    readonly volumes: readonly Volume[];
    readonly mounts: readonly VolumeMount[];
    /** The component creates `<clusterName>-mqtt-users` with a generated user that EMQX imports. */
    readonly generatesUser: boolean;
    /** 4.x: the component creates `<clusterName>-management-app` with the application secret. */
    readonly generatesManagementApp: boolean;
    readonly credentials: ClientCredentialsPlan;
    readonly warnings: readonly string[];
}

/** The names of the Secrets the component generates for these args. */
export function authSecretNames(base: string): { users: string; managementApp: string } {
    return { users: `${base}-mqtt-users`, managementApp: `${base}-management-app` };
}

/** What the auth checks and plan need to know besides the args. */
export interface AuthContext {
    readonly base: string;
    readonly version: VersionProfile;
    /** Paths `emqxConfig` sets. */
    readonly emqxConfigPaths: readonly string[];
    /** Why a configuration path is the component's (discovery, node, listeners...), or undefined. */
    readonly managedSetting: (path: string) => string | undefined;
}

type Resolved<T> = pulumi.Unwrap<T>;

/** The auth-related args, values known. */
export interface AuthArgs {
    readonly authentication?: AuthenticationArgs;
    readonly authorization?: Resolved<AuthorizationArgs>;
    readonly secretSettings?: Resolved<Record<string, SecretKeyRef>>;
    readonly licenseKeySecret?: Resolved<SecretKeyRef>;
    /** A licence key was given by value. */
    readonly hasLicenseKey: boolean;
}

// Settings the component sets once client authentication is on, in 4.x and 5.x syntax.
const AUTHENTICATION_SETTINGS = /^(authentication(\.|$)|allow_anonymous$|loaded_plugins$|auth\.user\.1\.)/;
const AUTHORIZATION_SETTINGS = /^(authorization\.(sources|no_match)(\.|$)|acl_file$|acl_nomatch$)/;
const MANAGEMENT_APP_SETTINGS = /^management\.default_application\./;

function selectorProblems(field: string, ref: unknown): string[] {
    if (!isPlainObject(ref)) {
        return [`${field}: must be { name, key }, a Secret in the cluster's namespace and a key of it`];
    }
    const problems: string[] = [];
    if (typeof ref.name !== "string" || !isDns1123Subdomain(ref.name)) {
        problems.push(`${field}.name: ${JSON.stringify(ref.name)} is not a Secret name (lowercase letters, digits, '-', '.')`);
    }
    if (typeof ref.key !== "string" || !SECRET_KEY.test(ref.key)) {
        problems.push(`${field}.key: ${JSON.stringify(ref.key)} is not a Secret key (letters, digits, '-', '_', '.')`);
    }
    return problems;
}

function authenticationProblems(authentication: AuthenticationArgs | undefined, support: ClientAuthSupport, version: string): string[] {
    if (authentication !== undefined && !isPlainObject(authentication)) {
        return [`authentication: must be an object such as { allowAnonymous: false, users: { secretName: "mqtt-users" } }`];
    }
    const problems: string[] = [];
    const { allowAnonymous, users } = authentication ?? {};
    if (allowAnonymous !== undefined && typeof allowAnonymous !== "boolean") {
        problems.push(`authentication.allowAnonymous: must be true or false`);
    }
    if (users !== undefined) {
        if (!isPlainObject(users)) {
            return [...problems, `authentication.users: must be { secretName, key? }`];
        }
        if (typeof users.secretName !== "string" || !isDns1123Subdomain(users.secretName)) {
            problems.push(`authentication.users.secretName: ${JSON.stringify(users.secretName)} is not a Secret name (lowercase letters, digits, '-', '.')`);
        }
        const key = users.key ?? DEFAULT_USERS_KEY;
        if (typeof key !== "string" || !SECRET_KEY.test(key) || !/\.(csv|json)$/.test(key)) {
            problems.push(
                `authentication.users.key: ${JSON.stringify(key)} must be a Secret key ending in .csv or .json: EMQX ` +
                    `reads the bootstrap file's format from its extension`,
            );
        }
        if (allowAnonymous === true) {
            problems.push(
                `authentication.users: allowAnonymous: true configures no authenticator, so no user would be imported; ` +
                    `remove users, or allowAnonymous`,
            );
        } else if (support.kind === "plugin") {
            problems.push(
                `authentication.users: EMQX ${version} takes built-in users only as numbered settings, not a file; ` +
                    `remove users (the component generates one), and add more with emqxConfig ` +
                    `("auth.user.2.username") and secretSettings ("auth.user.2.password")`,
            );
        } else if (support.kind === "hocon" && !support.bootstrapFile) {
            problems.push(
                `authentication.users: EMQX ${version} cannot import users from a file (the built-in database's ` +
                    `bootstrap_file arrived in 5.7.2); use 5.7.2 or later, or remove users and add them in the dashboard`,
            );
        }
    }
    if (allowAnonymous !== true && support.kind === "none") {
        problems.push(`authentication: ${support.reason}`);
    }
    return problems;
}

function authorizationProblems(authorization: Resolved<AuthorizationArgs> | undefined): string[] {
    if (authorization === undefined) {
        return [];
    }
    if (!isPlainObject(authorization) || !isPlainObject(authorization.rules)) {
        return [`authorization: must be { rules: { configMapName | secretName, key? }, noMatch? }`];
    }
    const problems: string[] = [];
    const { configMapName, secretName, key } = authorization.rules;
    if ((configMapName === undefined) === (secretName === undefined)) {
        problems.push(`authorization.rules: give exactly one of configMapName and secretName`);
    }
    for (const [field, name] of [["configMapName", configMapName], ["secretName", secretName]] as const) {
        if (name !== undefined && (typeof name !== "string" || !isDns1123Subdomain(name))) {
            problems.push(`authorization.rules.${field}: ${JSON.stringify(name)} is not an object name (lowercase letters, digits, '-', '.')`);
        }
    }
    if (key !== undefined && (typeof key !== "string" || !SECRET_KEY.test(key))) {
        problems.push(`authorization.rules.key: ${JSON.stringify(key)} is not a key (letters, digits, '-', '_', '.')`);
    }
    const noMatch = authorization.noMatch;
    if (noMatch !== undefined && noMatch !== "allow" && noMatch !== "deny") {
        problems.push(`authorization.noMatch: ${JSON.stringify(noMatch)} must be "allow" or "deny"`);
    }
    return problems;
}

function secretSettingsProblems(args: AuthArgs, context: AuthContext, owned: (path: string) => boolean): string[] {
    const given = args.secretSettings;
    if (given === undefined) {
        return [];
    }
    if (!isPlainObject(given)) {
        return [`secretSettings: must be an object of configuration paths to { name, key } of a Secret`];
    }
    const logging = context.version.entrypointLogging;
    return Object.entries(given).flatMap(([path, ref]) => {
        const field = `secretSettings["${path}"]`;
        if (!/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/.test(path)) {
            return [`${field}: is not an EMQX configuration path such as "authentication.1.password"`];
        }
        const managed = context.managedSetting(path);
        if (managed) {
            return [`${field}: ${managed}`];
        }
        if (owned(path)) {
            return [`${field}: the component sets ${path} from authentication, authorization or the management application; remove it`];
        }
        if (context.emqxConfigPaths.includes(path)) {
            return [`${field}: emqxConfig sets ${path} too; keep it in one of them`];
        }
        if (logging && !(logging.masked && logging.masked.test(path))) {
            return [
                `${field}: the EMQX ${context.version.version} image prints ${path}'s value to the container log ` +
                    `(its entrypoint masks ${logging.masked ? "only settings named password, passwd, key, token or secret" : "no value"}); ` +
                    `use EMQX 4.3 or later for this setting`,
            ];
        }
        return selectorProblems(field, ref);
    });
}

function licenseProblems(args: AuthArgs, version: VersionProfile): string[] {
    if (args.licenseKeySecret === undefined) {
        return [];
    }
    if (args.hasLicenseKey) {
        return [`licenseKeySecret: licenseKey is given too; give the licence either by value or by reference`];
    }
    if (!version.licenseKeyPath) {
        return [`licenseKeySecret: EMQX ${version.version} takes no licence key from this component (5.x only); remove it`];
    }
    return selectorProblems("licenseKeySecret", args.licenseKeySecret);
}

/** Whether `path` is one the component sets for these args. */
function ownedBy(allowAnonymous: boolean, authorization: boolean, version: VersionProfile): (path: string) => boolean {
    return (path) =>
        (!allowAnonymous && AUTHENTICATION_SETTINGS.test(path)) ||
        (authorization && AUTHORIZATION_SETTINGS.test(path)) ||
        (version.managementAppPaths !== undefined && MANAGEMENT_APP_SETTINGS.test(path));
}

/** What is wrong with the auth args (values known), as `field: message`. */
export function authProblems(args: AuthArgs, context: AuthContext): string[] {
    const { version } = context;
    const allowAnonymous = args.authentication?.allowAnonymous === true;
    const owned = ownedBy(allowAnonymous, args.authorization !== undefined, version);
    const configProblems = context.emqxConfigPaths.filter(owned).map(
        (path) =>
            `emqxConfig["${path}"]: the component sets it from ${
                MANAGEMENT_APP_SETTINGS.test(path)
                    ? "a generated management application"
                    : AUTHORIZATION_SETTINGS.test(path)
                      ? "authorization"
                      : "authentication (set authentication.allowAnonymous: true to configure authentication yourself)"
            }; remove it`,
    );
    return [
        ...authenticationProblems(args.authentication, version.clientAuth, version.version),
        ...authorizationProblems(args.authorization),
        ...configProblems,
        ...secretSettingsProblems(args, context, owned),
        ...licenseProblems(args, version),
    ];
}

/**
 * Which Secrets the component generates: the MQTT user when EMQX can import it (5.7.2+ without `users`, 4.3+), the
 * management application on 4.x. Depends on plain args only, so it is known before any Output.
 */
export function generatedAuthSecrets(
    authentication: AuthenticationArgs | undefined,
    version: VersionProfile,
): { readonly user: boolean; readonly managementApp: boolean } {
    const support = version.clientAuth;
    const authenticates = authentication?.allowAnonymous !== true;
    return {
        user:
            authenticates &&
            ((support.kind === "hocon" && support.bootstrapFile && authentication?.users === undefined) || support.kind === "plugin"),
        managementApp: version.managementAppPaths !== undefined,
    };
}

/** HOCON for the built-in database authenticator (5.x), importing `bootstrapFile` when given. */
function authenticatorHocon(bootstrapFile: string | undefined): string {
    const bootstrap = bootstrapFile ? `, bootstrap_file = ${JSON.stringify(bootstrapFile)}, bootstrap_type = plain` : "";
    return (
        `[{mechanism = password_based, backend = built_in_database, user_id_type = username, ` +
        `password_hash_algorithm {name = sha256, salt_position = suffix}${bootstrap}}]`
    );
}

/** The plan's piece for checked auth args. */
export function planAuth(args: AuthArgs, context: AuthContext): AuthPlan {
    const { version, base } = context;
    const secrets = authSecretNames(base);
    const allowAnonymous = args.authentication?.allowAnonymous === true;
    const settings: Record<string, string> = {};
    const plugins: string[] = [];
    const secretSettings: { path: string; secretName: string; key: string }[] = [];
    const volumes: Volume[] = [];
    const mounts: VolumeMount[] = [];
    const warnings: string[] = [];
    let credentials: ClientCredentialsPlan = {};
    const generated = generatedAuthSecrets(args.authentication, version);

    const support = version.clientAuth;
    if (!allowAnonymous && support.kind === "hocon") {
        const users = args.authentication?.users;
        if (support.bootstrapFile) {
            const secretName = users?.secretName ?? secrets.users;
            const key = users?.key ?? (users ? DEFAULT_USERS_KEY : GENERATED_MQTT_USER.keys.bootstrapFile);
            volumes.push({ name: AUTH_VOLUMES.users, secret: { secretName, items: [{ key, path: key }], defaultMode: 0o440 } });
            mounts.push({ name: AUTH_VOLUMES.users, mountPath: MQTT_USERS_DIR, readOnly: true });
            settings.authentication = authenticatorHocon(`${MQTT_USERS_DIR}/${key}`);
            credentials = generated.user
                ? { secretName, usernameKey: GENERATED_MQTT_USER.keys.username, passwordKey: GENERATED_MQTT_USER.keys.password, usersFileKey: key }
                : { secretName, usersFileKey: key };
        } else {
            settings.authentication = authenticatorHocon(undefined);
            warnings.push(
                `authentication: EMQX ${version.version} cannot import users from a file (bootstrap_file arrived in ` +
                    `5.7.2), so anonymous clients are refused and no user exists until you add one in the dashboard ` +
                    `(${version.authenticationConsole}) or the REST API; use 5.7.2 or later to have the component ` +
                    `create one, or set authentication.allowAnonymous: true`,
            );
        }
    } else if (!allowAnonymous && support.kind === "plugin") {
        settings.allow_anonymous = "false";
        plugins.push("emqx_auth_mnesia");
        settings["auth.user.1.username"] = GENERATED_MQTT_USER.username;
        secretSettings.push({ path: "auth.user.1.password", secretName: secrets.users, key: GENERATED_MQTT_USER.keys.password });
        credentials = { secretName: secrets.users, usernameKey: GENERATED_MQTT_USER.keys.username, passwordKey: GENERATED_MQTT_USER.keys.password };
    }

    const authorization = args.authorization;
    if (authorization !== undefined) {
        const { configMapName, secretName, key = DEFAULT_ACL_KEY } = authorization.rules;
        const items = [{ key, path: key }];
        volumes.push(
            configMapName !== undefined
                ? { name: AUTH_VOLUMES.acl, configMap: { name: configMapName, items, defaultMode: 0o440 } }
                : { name: AUTH_VOLUMES.acl, secret: { secretName, items, defaultMode: 0o440 } },
        );
        mounts.push({ name: AUTH_VOLUMES.acl, mountPath: ACL_DIR, readOnly: true });
        const path = `${ACL_DIR}/${key}`;
        const noMatch = authorization.noMatch ?? "deny";
        if (version.family.major === 5) {
            settings["authorization.sources"] = `[{type = file, enable = true, path = ${JSON.stringify(path)}}]`;
            settings["authorization.no_match"] = noMatch;
        } else {
            settings.acl_file = path;
            settings.acl_nomatch = noMatch;
        }
    }

    if (version.managementAppPaths) {
        settings[version.managementAppPaths.id] = MANAGEMENT_APP.id;
        secretSettings.push({ path: version.managementAppPaths.secret, secretName: secrets.managementApp, key: MANAGEMENT_APP.secretKey });
    }

    for (const [path, ref] of Object.entries(args.secretSettings ?? {})) {
        secretSettings.push({ path, secretName: ref.name, key: ref.key });
    }
    if (args.licenseKeySecret && version.licenseKeyPath) {
        secretSettings.push({ path: version.licenseKeyPath, secretName: args.licenseKeySecret.name, key: args.licenseKeySecret.key });
    }
    if (version.entrypointLogging && !version.entrypointLogging.masked) {
        warnings.push(
            `EMQX ${version.version}'s image prints every EMQX_* setting to the container log as it starts, the ` +
                `Erlang cookie, the dashboard password and the management application's secret included; use 4.1.1 ` +
                `or later (4.3 or later for client authentication)`,
        );
    }
    return {
        allowAnonymous,
        settings,
        plugins,
        secretSettings,
        volumes,
        mounts,
        generatesUser: generated.user,
        generatesManagementApp: generated.managementApp,
        credentials,
        warnings,
    };
}

/** The generated user's bootstrap file (5.x): the CSV EMQX imports, with the header its importer expects. */
export function generatedUsersFile(password: string): string {
    return `user_id,password,is_superuser\n${GENERATED_MQTT_USER.username},${password},false\n`;
}
