import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EmqxClusterArgs } from "./args";
import { ChangeGuard } from "./change-guard";
import { ClientConfig, buildClientConfig } from "./client-config";
import { ClusterShape, EmqxArgsError, checkShape, valueProblems } from "./checks";
import { KEPT_SECRET_OPTIONS, generateSecretValue, secretValue } from "./generated-secret";
import { CERTIFICATE_TYPE, buildTlsCertificate } from "./objects/certificate";
import { GENERATED_MQTT_USER, MANAGEMENT_APP, generatedAuthSecrets } from "./auth";
import { buildCredentialsSecret, buildManagementAppSecret, buildMqttUserSecret, buildSecret, buildSettingsConfigMap } from "./objects/configuration";
import { buildPodDisruptionBudget } from "./objects/disruption";
import { buildEndpointsReaderBinding, buildEndpointsReaderRole, buildServiceAccount } from "./objects/rbac";
import { buildClientService, buildDashboardService, buildHeadlessService } from "./objects/services";
import { buildStatefulSet } from "./objects/statefulset";
import { buildDataClaimResize } from "./objects/volumes";
import { buildIngress } from "./objects/ingress";
import { MONITORING_API_VERSION, buildMonitor } from "./objects/monitoring";
import { buildNetworkPolicy } from "./objects/network-policy";
import { generationSuffix } from "./names";
import { ListenerService, externalEndpoint, listenerNodePort, url } from "./outputs";
import { ClusterPlan, SECRET_KEYS, planOutput } from "./plan";

/** The storage request of the StatefulSet's claim template. */
const CLAIM_TEMPLATE_SIZE_PATH = "spec.volumeClaimTemplates[0].spec.resources.requests.storage";

/** Length of the generated Erlang cookie and dashboard password. */
const GENERATED_SECRET_LENGTH = 32;

/**
 * Resource args built from the plan, one Output per field: the object waits for every value it uses to be known
 * and checked, and for the resources those values come from.
 */
function fromPlan<T extends object>(
    plan: pulumi.Output<ClusterPlan>,
    build: (plan: ClusterPlan) => T,
    fields: readonly NoInfer<keyof T>[],
): T {
    // Field by field, so that a secret field (a Secret's data) does not make the others secret.
    return Object.fromEntries(fields.map((field) => [field, plan.apply((p) => build(p)[field])])) as T;
}

/** Whether the default Kubernetes provider is configured without server-side apply, which the claim patches need. */
function serverSideApplyDisabled(): boolean {
    const configured = new pulumi.Config("kubernetes").getBoolean("enableServerSideApply");
    return configured === false || process.env.PULUMI_K8S_ENABLE_SERVER_SIDE_APPLY === "false";
}

/**
 * Starts the Kubernetes provider the objects will use (the component's, or the default one of the package's
 * version), without waiting for it. The engine starts a provider on its first use, and the objects are sent only
 * once the change guard is done, so the provider's start would follow the guard's; started here, it overlaps with
 * the guard's preparation. A YAML decode of an empty text: it creates nothing and sends nothing to the cluster. Its
 * failure is the objects' to report (e.g. default providers disabled and none given).
 */
function startKubernetesProvider(parent: pulumi.Resource): void {
    pulumi.runtime.invoke("kubernetes:yaml:decode", { text: "" }, k8s.yaml.getInvokeOpts({ parent })).catch(() => undefined);
}

/**
 * A clustered EMQX MQTT broker on Kubernetes: a StatefulSet under a headless Service, with version-correct
 * discovery, generated secrets, a client Service and a PodDisruptionBudget. Unsafe changes to a running cluster
 * are refused at preview time.
 */
export class EmqxCluster extends pulumi.ComponentResource {
    /**
     * The MQTT (1883) NodePort: the pinned one or the one Kubernetes allocated. Undefined for ClusterIP, and when
     * `service.listeners` leaves mqtt out.
     */
    public readonly nodePort: pulumi.Output<number | undefined>;
    /**
     * The dashboard's NodePort (of 18083, or of 18084 with `tls.dashboard`) on the dashboard Service. Undefined while
     * it is ClusterIP (the default).
     */
    public readonly dashboardNodePort: pulumi.Output<number | undefined>;
    /**
     * The dashboard for a browser, by `dashboard.service.type`: ClusterIP (default), the in-cluster URL
     * `http://<clusterName>-dashboard.<namespace>.svc.<clusterDomain>:18083` (from outside: `kubectl port-forward`, see
     * the README); NodePort, `http://<externalHost>:<dashboardNodePort>`; LoadBalancer, its address and 18083. With
     * `tls.dashboard`, `https://` and the HTTPS listener's port (18084, or its NodePort).
     */
    public readonly dashboardUrl: pulumi.Output<string>;
    /**
     * The MQTT URL for clients outside the cluster, e.g. `mqtt://mqtt.example.com:31883` (an IPv6 host in brackets);
     * without mqtt in `service.listeners`, the first of mqtts, ws, wss it exposes.
     * With the default externalHost, `localhost`, only right on a machine with port mappings to the nodes (kind, k3d):
     * a NodePort cluster without externalHost gets a preview warning.
     */
    public readonly mqttUrl: pulumi.Output<string>;
    /** The MQTT URL for clients inside the cluster: `mqtt://<service>.<namespace>.svc.<clusterDomain>:1883`. */
    public readonly mqttInternalUrl: pulumi.Output<string>;
    /** The headless Service that gives every node its DNS name. */
    public readonly headlessServiceName: pulumi.Output<string>;
    /** The StatefulSet running the nodes. */
    public readonly statefulSetName: pulumi.Output<string>;
    /** The namespace every object is in. */
    public readonly namespace: pulumi.Output<string>;
    /** Every node's Erlang name, `emqx@<pod>.<headless>.<namespace>.svc.<clusterDomain>`, as `emqx ctl cluster status` lists them. */
    public readonly nodeNames: pulumi.Output<string[]>;
    /** The dashboard admin user, created on the first boot of an empty data directory. */
    public readonly dashboardUsername: pulumi.Output<string>;
    /**
     * The dashboard admin password (secret), as the cluster keeps it in its credentials Secret: the one EMQX was
     * first started with. A later change of `dashboard.password` does not change it (EMQX reads it once).
     */
    public readonly dashboardPassword: pulumi.Output<string>;
    /**
     * Every node's Prometheus metrics URL, from inside the cluster, e.g.
     * `http://emqx-0.emqx-headless.default.svc.cluster.local:18083/api/v5/prometheus/stats` (4.x:
     * `:8081/api/v4/emqx_prometheus?type=prometheus`, only with `monitoring`, which loads the plugin; empty without).
     */
    public readonly metricsUrls: pulumi.Output<string[]>;
    /**
     * How an MQTT client connects: URLs of every listener from outside and inside the cluster, TLS and where client
     * credentials live (never the dashboard account).
     */
    public readonly clientConfig: pulumi.Output<ClientConfig>;
    /**
     * The generated MQTT user's name, `mqtt`, when the component generated one (`authentication` without `users`, on
     * 4.3+ and 5.7.2+); undefined otherwise. Also in the Secret `clientConfig.auth.secretName` names.
     */
    public readonly mqttUsername: pulumi.Output<string | undefined>;
    /** The generated MQTT user's password (secret), as the cluster keeps it; undefined when there is none. */
    public readonly mqttPassword: pulumi.Output<string | undefined>;
    /**
     * 4.x: the id of the management API's (8081, `/api/v4`) default application, `api`, which replaces EMQX's
     * `admin`; undefined on 5.x (whose REST API uses the dashboard account or API keys).
     */
    public readonly managementAppId: pulumi.Output<string | undefined>;
    /** 4.x: that application's generated secret (secret), replacing EMQX's `public`; undefined on 5.x. */
    public readonly managementAppSecret: pulumi.Output<string | undefined>;

    constructor(name: string, args: EmqxClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("emqx:index:EmqxCluster", name, {}, opts);

        const asResourceError = (err: unknown) =>
            err instanceof EmqxArgsError ? new pulumi.ResourceError(err.message, this) : (err as Error);
        let shape: ClusterShape;
        let plan: pulumi.Output<ClusterPlan>;
        try {
            shape = checkShape(name, args);
            plan = planOutput(name, args, asResourceError);
        } catch (err) {
            throw asResourceError(err);
        }
        startKubernetesProvider(this);
        for (const warning of shape.warnings) {
            pulumi.log.warn(warning, this);
        }
        // And those about values that were Outputs, once they are known.
        plan.apply((p) => p.warnings.filter((w) => !shape.warnings.includes(w)).forEach((w) => pulumi.log.warn(w, this)));
        if (shape.persistence && !this.getProvider("kubernetes::") && serverSideApplyDisabled()) {
            throw new pulumi.ResourceError(
                `EmqxCluster "${name}": the claim resize patches need server-side apply, which the Kubernetes ` +
                    `provider's enableServerSideApply=false turns off; remove that setting (true is the default)`,
                this,
            );
        }

        // Every Kubernetes object waits for the guard: an unsafe change stops the update before anything changes.
        const guard = shape.changeGuard
            ? new ChangeGuard(
                  `${name}-guard`,
                  { state: plan.apply((p) => p.guard), acknowledged: plan.apply((p) => p.acknowledgedChanges) },
                  { parent: this },
              )
            : undefined;
        const child = (dependsOn: pulumi.Resource[] = []): pulumi.CustomResourceOptions => ({
            parent: this,
            dependsOn: guard ? [guard, ...dependsOn] : dependsOn,
        });

        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            fromPlan(plan, buildServiceAccount, ["metadata", "automountServiceAccountToken"]),
            child(),
        );
        const rbac: pulumi.Resource[] = [serviceAccount];
        if (shape.discovery.needsEndpointsAccess) {
            const role = new k8s.rbac.v1.Role(`${name}-endpoints-reader`, fromPlan(plan, buildEndpointsReaderRole, ["metadata", "rules"]), child());
            rbac.push(
                role,
                new k8s.rbac.v1.RoleBinding(
                    `${name}-endpoints-reader`,
                    fromPlan(plan, buildEndpointsReaderBinding, ["metadata", "roleRef", "subjects"]),
                    child([role, serviceAccount]),
                ),
            );
        }

        const { credentials, dashboardPassword } = this.keptCredentials(name, shape, plan, args, child);
        // Kept like the credentials, each in its own Secret: the credentials Secret of a running cluster never takes
        // new keys (its data is never updated), and the pods would wait for a key it does not have.
        const generated = generatedAuthSecrets(args.authentication, shape.version);
        const kept = (suffix: string, build: (p: ClusterPlan, value: string) => k8s.core.v1.SecretArgs, key: string) => {
            const secret = new k8s.core.v1.Secret(
                `${name}-${suffix}`,
                fromPlan<k8s.core.v1.SecretArgs>(plan, (p) => build(p, generateSecretValue(GENERATED_SECRET_LENGTH)), ["metadata", "type", "stringData"]),
                { ...child(), ...KEPT_SECRET_OPTIONS },
            );
            return { secret, value: secretValue(secret, key) };
        };
        const mqttUser = generated.user ? kept("mqtt-users", buildMqttUserSecret, GENERATED_MQTT_USER.keys.password) : undefined;
        const managementApp = generated.managementApp
            ? kept("management-app", buildManagementAppSecret, MANAGEMENT_APP.secretKey)
            : undefined;
        const secret = new k8s.core.v1.Secret(
            `${name}-secrets`,
            fromPlan<k8s.core.v1.SecretArgs>(plan, (p) => buildSecret(p, { dashboardPassword, licenseKey: this.checkedSecret(name, "licenseKey", args.licenseKey, shape) }), [
                "metadata",
                "type",
                "stringData",
            ]),
            // Any change replaces these auto-named objects under a new name, which rolls the pods, even when the
            // provider was told to treat ConfigMaps and Secrets as mutable (enableConfigMapMutable/enableSecretMutable).
            { ...child(), replaceOnChanges: ["*"] },
        );
        const settings = new k8s.core.v1.ConfigMap(`${name}-settings`, fromPlan(plan, buildSettingsConfigMap, ["metadata", "data"]), {
            ...child(),
            replaceOnChanges: ["*"],
        });
        const headless = new k8s.core.v1.Service(`${name}-headless`, fromPlan(plan, buildHeadlessService, ["metadata", "spec"]), child());
        const tlsObjects: pulumi.Resource[] = [];
        if (shape.tlsShape?.certificate) {
            // Created before the pods, which mount the Secret cert-manager writes for it.
            tlsObjects.push(
                new k8s.apiextensions.CustomResource(
                    `${name}-tls`,
                    { ...CERTIFICATE_TYPE, ...fromPlan(plan, buildTlsCertificate, ["metadata", "spec"]) },
                    child(),
                ),
            );
        }
        // The pods wait for it, so that they never run unprotected.
        const networkPolicy = shape.createNetworkPolicy
            ? [new k8s.networking.v1.NetworkPolicy(`${name}-network-policy`, fromPlan(plan, buildNetworkPolicy, ["metadata", "spec"]), child())]
            : [];

        // Each volume generation is its own StatefulSet resource: bumping it creates the new StatefulSet on new
        // claims before the old one is deleted, rather than replacing an object whose immutable fields changed,
        // which Kubernetes refuses and Pulumi cannot preview.
        const statefulSet = new k8s.apps.v1.StatefulSet(
            `${name}-sts${generationSuffix(shape.volumeGeneration)}`,
            fromPlan<k8s.apps.v1.StatefulSetArgs>(plan, (p) => buildStatefulSet(p, { configMapName: settings.metadata.name, secretName: secret.metadata.name }), [
                "metadata",
                "spec",
            ]),
            {
                ...child([
                    ...rbac,
                    headless,
                    settings,
                    secret,
                    credentials,
                    ...(mqttUser ? [mqttUser.secret] : []),
                    ...(managementApp ? [managementApp.secret] : []),
                    ...tlsObjects,
                    ...networkPolicy,
                ]),
                // The claim template is immutable; a larger storageSize reaches the claims through the resize
                // patches below instead.
                ignoreChanges: shape.persistence ? [CLAIM_TEMPLATE_SIZE_PATH] : [],
                deleteBeforeReplace: true,
            },
        );

        if (shape.persistence) {
            for (let ordinal = 0; ordinal < shape.replicas; ordinal++) {
                new k8s.core.v1.PersistentVolumeClaimPatch(
                    `${name}-data-${ordinal}`,
                    fromPlan<k8s.core.v1.PersistentVolumeClaimPatchArgs>(plan, (p) => buildDataClaimResize(p, ordinal), ["metadata", "spec"]),
                    // Forgetting a resize patch must never touch the claim or its data.
                    { ...child([statefulSet]), retainOnDelete: true },
                );
            }
        }

        // Both select the pods of this volume generation. A bump switches them to the new StatefulSet's pods, so
        // from generation 1 on they wait for it to be Ready; at generation 0 there is nothing to switch from, and
        // they are created alongside it rather than after its rollout.
        const afterSwitch = shape.volumeGeneration > 0 ? [statefulSet] : [];
        const client = new k8s.core.v1.Service(`${name}-client`, fromPlan(plan, buildClientService, ["metadata", "spec"]), child(afterSwitch));
        const dashboardService = new k8s.core.v1.Service(
            `${name}-dashboard`,
            fromPlan(plan, buildDashboardService, ["metadata", "spec"]),
            // After the client Service, which held the dashboard's port before it had a Service of its own: a
            // NodePort pinned on both is released before it is claimed again.
            child([...afterSwitch, client]),
        );
        if (shape.createPodDisruptionBudget) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, fromPlan(plan, buildPodDisruptionBudget, ["metadata", "spec"]), child(afterSwitch));
        }

        this.createExposure(name, shape, plan, { client, dashboard: dashboardService }, child);

        const clientExposure: ListenerService = { service: client, internalHost: (p) => p.names.clientServiceFqdn };
        const dashboardExposure: ListenerService = { service: dashboardService, internalHost: (p) => p.names.dashboardServiceFqdn };
        const endpoint = (listener: "mqtt" | "mqtts" | "ws" | "wss") => externalEndpoint(plan, clientExposure, listener);
        this.nodePort = listenerNodePort(clientExposure, "mqtt");
        const dashboardListener = shape.tlsShape?.dashboard ? "dashboard-tls" : "dashboard";
        this.dashboardNodePort = listenerNodePort(dashboardExposure, dashboardListener);
        this.dashboardUrl = url(shape.tlsShape?.dashboard ? "https" : "http", externalEndpoint(plan, dashboardExposure, dashboardListener));
        this.headlessServiceName = headless.metadata.name;
        this.statefulSetName = statefulSet.metadata.name;
        this.namespace = plan.apply((p) => p.namespace);
        this.nodeNames = plan.apply((p) => Array.from({ length: p.replicas }, (_, i) => p.names.nodeName(i)));
        this.dashboardUsername = plan.apply((p) => p.dashboardUsername);
        this.dashboardPassword = dashboardPassword;
        this.metricsUrls = plan.apply((p) => [...p.metricsUrls]);
        this.clientConfig = pulumi
            .all([plan, pulumi.output({ mqtt: endpoint("mqtt"), mqtts: endpoint("mqtts"), ws: endpoint("ws"), wss: endpoint("wss") })])
            .apply(([p, external]) => buildClientConfig(p, external));
        this.mqttUsername = pulumi.output(mqttUser ? GENERATED_MQTT_USER.username : undefined);
        this.mqttPassword = mqttUser ? mqttUser.value : pulumi.output(undefined);
        this.managementAppId = pulumi.output(managementApp ? MANAGEMENT_APP.id : undefined);
        this.managementAppSecret = managementApp ? managementApp.value : pulumi.output(undefined);
        this.mqttUrl = this.clientConfig.apply((config) => config.url);
        this.mqttInternalUrl = this.clientConfig.apply((config) => config.internalUrl);

        this.registerOutputs({
            nodePort: this.nodePort,
            dashboardNodePort: this.dashboardNodePort,
            dashboardUrl: this.dashboardUrl,
            mqttUrl: this.mqttUrl,
            mqttInternalUrl: this.mqttInternalUrl,
            headlessServiceName: this.headlessServiceName,
            statefulSetName: this.statefulSetName,
            namespace: this.namespace,
            nodeNames: this.nodeNames,
            dashboardUsername: this.dashboardUsername,
            dashboardPassword: this.dashboardPassword,
            clientConfig: this.clientConfig,
            metricsUrls: this.metricsUrls,
            mqttUsername: this.mqttUsername,
            mqttPassword: this.mqttPassword,
            managementAppId: this.managementAppId,
            managementAppSecret: this.managementAppSecret,
        });
    }

    /**
     * The ServiceMonitor or PodMonitor (`monitoring`) and the Ingresses (`ingress`), each after the Service it
     * points at.
     */
    private createExposure(
        name: string,
        shape: ClusterShape,
        plan: pulumi.Output<ClusterPlan>,
        services: { client: k8s.core.v1.Service; dashboard: k8s.core.v1.Service },
        child: (dependsOn?: pulumi.Resource[]) => pulumi.CustomResourceOptions,
    ): void {
        if (shape.monitorKind) {
            new k8s.apiextensions.CustomResource(
                `${name}-monitor`,
                // The resource's type comes from apiVersion and kind, so they are plain values.
                { apiVersion: MONITORING_API_VERSION, kind: shape.monitorKind, ...fromPlan(plan, buildMonitor, ["metadata", "spec"]) },
                child([services.dashboard]),
            );
        }
        for (const route of shape.ingressRoutes) {
            new k8s.networking.v1.Ingress(
                `${name}-${route}-ingress`,
                fromPlan<k8s.networking.v1.IngressArgs>(plan, (p) => buildIngress(p, route), ["metadata", "spec"]),
                child([route === "dashboard" ? services.dashboard : services.client]),
            );
        }
    }

    /**
     * A secret arg, checked once its value is known (it may be an Output from another language or resource), and
     * kept secret. Undefined when not given.
     */
    private checkedSecret(
        name: string,
        field: "dashboard.password" | "licenseKey",
        value: pulumi.Input<string> | undefined,
        shape: ClusterShape,
    ): pulumi.Output<string> | undefined {
        if (value === undefined) {
            return undefined;
        }
        return pulumi.secret(
            pulumi.output(value).apply((v) => {
                const problems = valueProblems(field, v, { version: shape.version });
                if (problems.length > 0) {
                    throw new pulumi.ResourceError(new EmqxArgsError(name, problems).message, this);
                }
                return v;
            }),
        );
    }

    /**
     * The Erlang cookie and the dashboard password, generated (or given) once and kept by a Secret that is never
     * replaced nor updated: a config change, a scale or a version change keeps the cookie, and the
     * `dashboardPassword` output is read back from what the cluster holds.
     */
    private keptCredentials(
        name: string,
        shape: ClusterShape,
        plan: pulumi.Output<ClusterPlan>,
        args: EmqxClusterArgs,
        child: (dependsOn?: pulumi.Resource[]) => pulumi.CustomResourceOptions,
    ): { credentials: k8s.core.v1.Secret; dashboardPassword: pulumi.Output<string> } {
        // `dashboard` may be one Output as a whole (other languages hand it over so when the password is secret).
        const given = pulumi
            .output(args.dashboard)
            .apply((dashboard) => dashboard?.password)
            .apply((password) =>
                password === undefined ? undefined : this.checkedSecret(name, "dashboard.password", password, shape),
            ) as pulumi.Output<string | undefined>;
        const offered = {
            cookie: generateSecretValue(GENERATED_SECRET_LENGTH),
            dashboardPassword: given.apply((password) => password ?? generateSecretValue(GENERATED_SECRET_LENGTH)),
        };
        const credentials = new k8s.core.v1.Secret(
            `${name}-credentials`,
            fromPlan<k8s.core.v1.SecretArgs>(plan, (p) => buildCredentialsSecret(p, offered), ["metadata", "type", "stringData"]),
            { ...child(), ...KEPT_SECRET_OPTIONS },
        );
        const kept = secretValue(credentials, SECRET_KEYS.dashboardPassword);
        pulumi.all([kept, given]).apply(([keptPassword, givenPassword]) => {
            if (givenPassword !== undefined && givenPassword !== keptPassword) {
                pulumi.log.warn(
                    `dashboard.password differs from the password the cluster was first started with, which EMQX ` +
                        `keeps: the change is ignored (no pod restarts, dashboardPassword still gives the working ` +
                        `password). To change it, see "Changing the dashboard password" in the component's README`,
                    this,
                );
            }
        });
        return { credentials, dashboardPassword: kept };
    }
}
