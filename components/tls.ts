/**
 * TLS with the user's certificate for the MQTT listeners (mqtts 8883, wss 8084) and, optionally, the dashboard
 * (HTTPS 18084): the `tls` args, their checks, their piece of the plan (the settings that point EMQX at the mounted
 * files, the Certificate's names) and the objects (cert-manager Certificate, the Secret's volume and mount).
 * The version-specific configuration paths are in the version table (`tlsFilePaths`, `dashboardTls`).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { isIP } from "net";
import type { IpFamily, ServiceType } from "./args";
import type { ClusterNames } from "./names";
import { isDns1123Subdomain, isPlainObject } from "./validation";
import type { VersionProfile } from "./versions";

/** A cert-manager issuer (`Certificate.spec.issuerRef`). */
export interface TlsIssuerRefArgs {
    /** Name of the Issuer (in the cluster's namespace) or ClusterIssuer. Required. */
    name: pulumi.Input<string>;
    /** `Issuer` (default), `ClusterIssuer`, or an external issuer's kind (e.g. `AWSPCAClusterIssuer`). */
    kind?: pulumi.Input<string>;
    /** API group of the issuer. Default `cert-manager.io`; external issuers have their own (e.g. `awspca.cert-manager.io`). */
    group?: pulumi.Input<string>;
}

/**
 * A cert-manager `Certificate` (`cert-manager.io/v1`) the component creates, named `<clusterName>-tls`; cert-manager
 * writes the key pair to the Secret `<clusterName>-tls`, and renews it there. Needs cert-manager in the cluster.
 */
export interface TlsCertificateArgs {
    /** The issuer that signs the certificate. Required. */
    issuerRef: TlsIssuerRefArgs;
    /**
     * DNS names added to the defaults, e.g. `["mqtt.example.com"]`. The defaults are every name clients use: the
     * client Service's `<svc>`, `<svc>.<namespace>`, `<svc>.<namespace>.svc`, `<svc>.<namespace>.svc.<clusterDomain>`
     * (the dashboard Service's too with `tls.dashboard`), and `externalHost` when it is set (an IP address goes to
     * the certificate's IP addresses).
     */
    dnsNames?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Whether the default names include the Services' in-cluster names. Default true; set false for an issuer that
     * only signs public names (ACME, e.g. Let's Encrypt, refuses `*.svc.cluster.local`): the certificate then names
     * `externalHost` and `dnsNames` only, and pods in the cluster verify `externalHost` too.
     */
    inClusterNames?: boolean;
    /** Requested lifetime, a Go duration such as `2160h` (90 days). Default: the issuer's (cert-manager: 90 days). */
    duration?: pulumi.Input<string>;
    /** How long before expiry cert-manager renews, e.g. `360h`. Default: cert-manager's (a third of the lifetime). */
    renewBefore?: pulumi.Input<string>;
}

/**
 * TLS for the MQTT listeners and, optionally, the dashboard. Exactly one of `secretName` or `certificate`. The Secret
 * is mounted read-only, whole (no `subPath`, so the kubelet updates renewed files in place), at
 * `/opt/emqx/etc/server-tls`, and the listeners' `certfile`, `keyfile` and `cacertfile` point at it.
 */
export interface TlsArgs {
    /**
     * An existing Secret of type `kubernetes.io/tls` in the cluster's namespace (`tls.crt`, `tls.key`, and `ca.crt`
     * with `caFromSecret`), e.g. one your own cert-manager Certificate or an external secrets operator writes.
     */
    secretName?: pulumi.Input<string>;
    /** A cert-manager Certificate the component creates (see `TlsCertificateArgs`). */
    certificate?: TlsCertificateArgs;
    /**
     * The Secret holds `ca.crt`, the CA that signed the certificate (cert-manager's CA, SelfSigned and Vault issuers
     * write it; ACME issuers do not): EMQX's `cacertfile` is then that file, and `clientConfig.tls.caSecret` names it.
     * Default false: `cacertfile` is `tls.crt` itself, so the image's example CA (whose key is public) is never
     * trusted should client certificates be turned on. A missing `ca.crt` with true keeps EMQX from starting.
     */
    caFromSecret?: boolean;
    /**
     * PEM of the CA clients should trust, given to them in `clientConfig.tls.caCertificate` (e.g. your Issuer's CA
     * certificate). Not read by EMQX. Default: none.
     */
    caCertificate?: pulumi.Input<string>;
    /**
     * Serve the dashboard and REST API over HTTPS on 18084 with the same certificate; the dashboard Service then
     * carries 18084 instead of the plain 18083 (which the probes keep using inside the pod) and `dashboardUrl` is
     * `https://`. Default false. Refused on 4.0-4.2.
     */
    dashboard?: boolean;
    /**
     * A value that changes whenever the certificate does, e.g. a hash of the PEM your program writes into the Secret,
     * or the Certificate's revision: it becomes the pod template annotation `emqx.pulumi.io/tls-content`, so a change
     * rolls the pods one at a time. For what EMQX does not pick up from the renewed files by itself: a new CA
     * (`ca.crt`), and any change on 4.0-4.2 (see the README, "TLS"). Default: none (renewed files are read in place).
     */
    contentHash?: pulumi.Input<string>;
}

/** The pod template annotation that carries `tls.contentHash`. */
export const TLS_CONTENT_ANNOTATION = "emqx.pulumi.io/tls-content";

/** Where the TLS Secret is mounted, and the name of its volume. */
export const TLS_DIR = "/opt/emqx/etc/server-tls";
export const TLS_VOLUME = "server-tls";

/** The keys of a `kubernetes.io/tls` Secret (and cert-manager's `ca.crt`). */
export const TLS_SECRET_KEYS = { certificate: "tls.crt", privateKey: "tls.key", ca: "ca.crt" } as const;

const CERT_MANAGER_GROUP = "cert-manager.io";

/** The Certificate's planned spec: where cert-manager writes, who signs, for which names. */
export interface CertificatePlan {
    readonly name: string;
    readonly issuerRef: { readonly name: string; readonly kind: string; readonly group: string };
    readonly dnsNames: readonly string[];
    readonly ipAddresses: readonly string[];
    readonly duration?: string;
    readonly renewBefore?: string;
}

/** The plan's piece: which Secret the pods mount, what EMQX reads from it, what clients verify. */
export interface TlsPlan {
    /** The Secret mounted at `TLS_DIR`: the given one, or the one cert-manager writes. */
    readonly secretName: string;
    /** The Certificate to create; undefined for a given Secret. */
    readonly certificate?: CertificatePlan;
    readonly caFromSecret: boolean;
    readonly caCertificate?: string;
    readonly dashboard: boolean;
    /** EMQX settings by configuration path (values as the version reads them). */
    readonly settings: Readonly<Record<string, string>>;
    /** The name clients outside the cluster verify: `externalHost` when set, else the client Service's in-cluster name. */
    readonly serverName: string;
    /** The name pods in the cluster verify: the client Service's `<svc>.<namespace>.svc.<clusterDomain>`. */
    readonly internalServerName: string;
    /** `tls.contentHash`: a change rolls the pods. */
    readonly contentHash?: string;
}

type Tls = pulumi.Unwrap<TlsArgs>;

/** What `tls` decides before any Input is known: whether a Certificate exists, and the dashboard's listener. */
export interface TlsShape {
    readonly certificate: boolean;
    readonly dashboard: boolean;
}

function deferred(value: unknown): boolean {
    return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/**
 * The parts of `tls` that decide which objects and listeners exist must be plain: the object, `secretName` versus
 * `certificate`, `dashboard`, `caFromSecret`. Their leaves (names, issuer, DNS names) may be Outputs.
 */
export function tlsStructureProblems(tls: unknown): string[] {
    const fix =
        "must be a plain value, not an Output: it decides which objects the component creates; pass the value " +
        "itself, and put the resource it comes from in the component's dependsOn";
    if (deferred(tls)) {
        return [`tls: ${fix}`];
    }
    if (!isPlainObject(tls)) {
        return tls === undefined ? [] : [`tls: must be an object such as { secretName: "mqtt-tls" } or { certificate: { issuerRef: { name: "ca" } } }`];
    }
    return (["certificate", "dashboard", "caFromSecret"] as const).filter((field) => deferred(tls[field])).map((field) => `tls.${field}: ${fix}`);
}

export function tlsShape(tls: TlsArgs | undefined): TlsShape | undefined {
    return tls === undefined ? undefined : { certificate: tls.certificate !== undefined, dashboard: tls.dashboard === true };
}

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/;

/** A DNS name of a certificate: a DNS subdomain, with an optional leading `*.` wildcard label. */
function isCertificateDnsName(value: string): boolean {
    return isDns1123Subdomain(value.startsWith("*.") ? value.slice(2) : value);
}

/**
 * What is wrong with the known values of `tls`, as `field: message`. `emqxConfig` may not set what `tls` sets.
 * Values not known yet (Outputs) are checked when the plan is made with every value known.
 */
export function tlsProblems(
    tls: Tls | undefined,
    context: { version?: VersionProfile; emqxConfig: Readonly<Record<string, unknown>>; externalHostGiven: boolean },
): string[] {
    if (tls === undefined || !isPlainObject(tls)) {
        return [];
    }
    const problems: string[] = [];
    const known = <T>(value: T) => (deferred(value) ? undefined : value);
    const { secretName, certificate } = tls;
    if (secretName !== undefined && certificate !== undefined) {
        problems.push(
            `tls: give either tls.secretName (an existing kubernetes.io/tls Secret) or tls.certificate (a cert-manager ` +
                `Certificate the component creates), not both`,
        );
    } else if (secretName === undefined && certificate === undefined) {
        problems.push(`tls: give tls.secretName (an existing kubernetes.io/tls Secret) or tls.certificate (a cert-manager Certificate the component creates)`);
    }
    const name = known(secretName);
    if (name !== undefined && (typeof name !== "string" || !isDns1123Subdomain(name))) {
        problems.push(`tls.secretName: ${JSON.stringify(name)} is not a Secret name (lowercase letters, digits, '-' and '.')`);
    }
    if (certificate !== undefined) {
        problems.push(...certificateProblems(certificate));
        if (isPlainObject(certificate) && certificate.inClusterNames === false && certificate.dnsNames === undefined && !context.externalHostGiven) {
            problems.push(
                `tls.certificate.inClusterNames: false leaves the certificate no name; set externalHost or tls.certificate.dnsNames ` +
                    `to the public names clients use`,
            );
        }
    }
    for (const flag of ["dashboard", "caFromSecret"] as const) {
        if (tls[flag] !== undefined && typeof tls[flag] !== "boolean") {
            problems.push(`tls.${flag}: must be true or false`);
        }
    }
    const contentHash = known(tls.contentHash);
    if (contentHash !== undefined && (typeof contentHash !== "string" || contentHash === "")) {
        problems.push(`tls.contentHash: must be a non-empty string that changes with the certificate, e.g. a SHA-256 of its PEM`);
    }
    const ca = known(tls.caCertificate);
    if (ca !== undefined && (typeof ca !== "string" || !PEM_CERTIFICATE.test(ca))) {
        problems.push(`tls.caCertificate: must be a PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)`);
    }
    const { version } = context;
    if (tls.dashboard === true && version?.dashboardTlsLimit) {
        problems.push(`tls.dashboard: EMQX ${version.version} cannot take it here: ${version.dashboardTlsLimit}`);
    }
    if (version) {
        const owned = new Set(Object.keys(tlsSettings(version, { caFromSecret: tls.caFromSecret === true, dashboard: tls.dashboard === true, ipFamily: "IPv4" })));
        for (const path of Object.keys(context.emqxConfig)) {
            if (owned.has(path)) {
                problems.push(`emqxConfig["${path}"]: is set by tls (the mounted certificate's files); remove it`);
            }
        }
    }
    return problems;
}

function certificateProblems(certificate: TlsCertificateArgs): string[] {
    if (!isPlainObject(certificate)) {
        return [`tls.certificate: must be an object such as { issuerRef: { name: "ca-issuer" } }`];
    }
    const problems: string[] = [];
    const issuer = certificate.issuerRef as unknown;
    if (!isPlainObject(issuer)) {
        if (!deferred(issuer)) {
            problems.push(`tls.certificate.issuerRef: required, e.g. { name: "letsencrypt", kind: "ClusterIssuer" }`);
        }
    } else {
        const { name, kind, group } = issuer;
        if (name === undefined) {
            problems.push(`tls.certificate.issuerRef.name: required; the name of the Issuer or ClusterIssuer`);
        } else if (!deferred(name) && (typeof name !== "string" || !isDns1123Subdomain(name))) {
            problems.push(`tls.certificate.issuerRef.name: ${JSON.stringify(name)} is not an issuer name (lowercase letters, digits, '-' and '.')`);
        }
        if (kind !== undefined && !deferred(kind) && (typeof kind !== "string" || !KIND.test(kind))) {
            problems.push(`tls.certificate.issuerRef.kind: ${JSON.stringify(kind)} is not a kind such as Issuer or ClusterIssuer`);
        }
        if (group !== undefined && !deferred(group) && (typeof group !== "string" || !isDns1123Subdomain(group))) {
            problems.push(`tls.certificate.issuerRef.group: ${JSON.stringify(group)} is not an API group such as ${CERT_MANAGER_GROUP}`);
        }
    }
    const dnsNames = certificate.dnsNames as unknown;
    if (dnsNames !== undefined && !deferred(dnsNames)) {
        if (!Array.isArray(dnsNames)) {
            problems.push(`tls.certificate.dnsNames: must be a list of DNS names such as ["mqtt.example.com"]`);
        } else {
            dnsNames.forEach((dnsName, i) => {
                if (!deferred(dnsName) && (typeof dnsName !== "string" || !isCertificateDnsName(dnsName))) {
                    problems.push(`tls.certificate.dnsNames[${i}]: ${JSON.stringify(dnsName)} is not a DNS name such as mqtt.example.com or *.example.com`);
                }
            });
        }
    }
    if (certificate.inClusterNames !== undefined && typeof certificate.inClusterNames !== "boolean") {
        problems.push(`tls.certificate.inClusterNames: must be true or false`);
    }
    for (const field of ["duration", "renewBefore"] as const) {
        const value = certificate[field] as unknown;
        if (value !== undefined && !deferred(value) && (typeof value !== "string" || !GO_DURATION.test(value))) {
            problems.push(`tls.certificate.${field}: ${JSON.stringify(value)} is not a duration such as 2160h or 720h30m`);
        }
    }
    return problems;
}

/**
 * A warning when the MQTT TLS listeners are reachable from outside the cluster with the example certificate built
 * into the EMQX image: its private key ships in every image, so anyone can impersonate the broker.
 */
export function exampleCertificateWarning(
    tls: unknown,
    serviceType: ServiceType,
    emqxConfig: Readonly<Record<string, unknown>>,
    clientListeners: readonly string[],
): string | undefined {
    const ownFiles = Object.keys(emqxConfig).some((path) => /^(listeners\.(ssl|wss)\.default\.ssl_options|listener\.(ssl|wss)\.external)\.(certfile|keyfile)$/.test(path));
    const exposed = [["mqtts", "8883"], ["wss", "8084"]].filter(([name]) => clientListeners.includes(name));
    if (tls !== undefined || serviceType === "ClusterIP" || ownFiles || exposed.length === 0) {
        return undefined;
    }
    return (
        `${exposed.map(([name, port]) => `${name} (${port})`).join(" and ")} ${exposed.length > 1 ? "are" : "is"} reachable from outside the cluster (serviceType ${serviceType}) with the ` +
        `example certificate built into the EMQX image, whose private key is public: anyone can impersonate the ` +
        `broker to clients. Set tls (secretName of a kubernetes.io/tls Secret, or certificate with a cert-manager issuer)`
    );
}

/** The settings that point the TLS listeners (and the dashboard's HTTPS listener) at the mounted files. */
export function tlsSettings(
    version: VersionProfile,
    options: { caFromSecret: boolean; dashboard: boolean; ipFamily: IpFamily },
): Record<string, string> {
    // 5.x reads environment values as HOCON: paths are quoted strings there.
    const value = (v: string) => (version.parsesHocon ? JSON.stringify(v) : v);
    const file = (key: string) => value(`${TLS_DIR}/${key}`);
    const files = (path: string) => ({
        [`${path}.certfile`]: file(TLS_SECRET_KEYS.certificate),
        [`${path}.keyfile`]: file(TLS_SECRET_KEYS.privateKey),
        [`${path}.cacertfile`]: file(options.caFromSecret ? TLS_SECRET_KEYS.ca : TLS_SECRET_KEYS.certificate),
    });
    const dashboard = options.dashboard ? version.dashboardTls : undefined;
    return {
        ...files(version.tlsFilePaths.mqtts),
        ...files(version.tlsFilePaths.wss),
        ...(dashboard ? { ...dashboard.enable, ...files(dashboard.filePath) } : {}),
        ...(dashboard && options.ipFamily === "IPv6" && version.parsesHocon ? { "dashboard.listeners.https.inet6": "true" } : {}),
    };
}

/** Every name clients use to reach a Service: `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, `<svc>.<ns>.svc.<domain>`. */
function serviceNames(service: string, fqdn: string): string[] {
    const [, namespace] = fqdn.split(".");
    return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, fqdn];
}

/** The plan of known, checked `tls` args; undefined without `tls`. */
export function planTls(
    tls: Tls | undefined,
    context: {
        version: VersionProfile;
        names: ClusterNames;
        ipFamily: IpFamily;
        serviceType: ServiceType;
        /** `externalHost` as given; undefined when it was left to the default. */
        externalHost?: string;
    },
): TlsPlan | undefined {
    if (tls === undefined) {
        return undefined;
    }
    const { names, externalHost } = context;
    const dashboard = tls.dashboard === true;
    const caFromSecret = tls.caFromSecret === true;
    const certificateName = `${names.base}-tls`;
    let certificate: CertificatePlan | undefined;
    if (tls.certificate) {
        const { issuerRef, dnsNames = [], duration, renewBefore, inClusterNames = true } = tls.certificate;
        const defaults = !inClusterNames ? [] : [
            ...serviceNames(names.clientService, names.clientServiceFqdn),
            ...(dashboard ? serviceNames(names.dashboardService, names.dashboardServiceFqdn) : []),
        ];
        const external = externalHost === undefined ? [] : [externalHost];
        certificate = {
            name: certificateName,
            issuerRef: { name: issuerRef.name, kind: issuerRef.kind ?? "Issuer", group: issuerRef.group ?? CERT_MANAGER_GROUP },
            dnsNames: [...new Set([...defaults, ...external.filter((h) => isIP(h) === 0).map((h) => h.toLowerCase()), ...dnsNames])],
            ipAddresses: external.filter((h) => isIP(h) !== 0),
            duration,
            renewBefore,
        };
    }
    return {
        secretName: certificate ? certificateName : (tls.secretName as string),
        certificate,
        caFromSecret,
        caCertificate: tls.caCertificate,
        dashboard,
        settings: tlsSettings(context.version, { caFromSecret, dashboard, ipFamily: context.ipFamily }),
        serverName: externalHost !== undefined && context.serviceType !== "ClusterIP" ? externalHost : names.clientServiceFqdn,
        // Without in-cluster names in the certificate, pods in the cluster verify the public name too.
        internalServerName: tls.certificate?.inClusterNames === false && externalHost !== undefined ? externalHost : names.clientServiceFqdn,
        contentHash: tls.contentHash,
    };
}

/** The cert-manager Certificate: cert-manager issues the key pair into `secretName` and renews it there. */
export function buildCertificate(
    tls: TlsPlan,
    metadata: k8s.types.input.meta.v1.ObjectMeta,
): { metadata: k8s.types.input.meta.v1.ObjectMeta; spec: Record<string, unknown> } {
    const certificate = tls.certificate;
    if (!certificate) {
        throw new Error("the plan has no Certificate");
    }
    return {
        metadata,
        spec: {
            secretName: tls.secretName,
            issuerRef: { ...certificate.issuerRef },
            dnsNames: [...certificate.dnsNames],
            ...(certificate.ipAddresses.length > 0 ? { ipAddresses: [...certificate.ipAddresses] } : {}),
            ...(certificate.duration !== undefined ? { duration: certificate.duration } : {}),
            ...(certificate.renewBefore !== undefined ? { renewBefore: certificate.renewBefore } : {}),
            // A renewal gets a new key too (cert-manager's default only from v1.18 on).
            privateKey: { rotationPolicy: "Always" },
            // So the Secret cert-manager writes carries the cluster's labels.
            secretTemplate: { labels: { ...(metadata.labels as Record<string, string>) } },
        },
    };
}

/** The Secret as a read-only volume, whole: the kubelet replaces renewed files in place (never under `subPath`). */
export function tlsVolume(tls: TlsPlan): k8s.types.input.core.v1.Volume {
    return { name: TLS_VOLUME, secret: { secretName: tls.secretName, defaultMode: 0o440 } };
}

export function tlsVolumeMount(): k8s.types.input.core.v1.VolumeMount {
    return { name: TLS_VOLUME, mountPath: TLS_DIR, readOnly: true };
}
