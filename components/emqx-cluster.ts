import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EmqxClusterArgs } from "./args";
import { ChangeGuard } from "./change-guard";
import { ClientConfig, buildClientConfig } from "./client-config";
import { GeneratedSecret } from "./generated-secret";
import { buildSecret, buildSettingsConfigMap } from "./objects/configuration";
import { buildPodDisruptionBudget } from "./objects/disruption";
import { buildEndpointsReaderBinding, buildEndpointsReaderRole, buildServiceAccount } from "./objects/rbac";
import { buildClientService, buildHeadlessService } from "./objects/services";
import { buildStatefulSet } from "./objects/statefulset";
import { buildDataClaimResize } from "./objects/volumes";
import { generationSuffix } from "./names";
import { externalEndpoint, listenerNodePort, url } from "./outputs";
import { EmqxArgsError } from "./checks";
import { planCluster } from "./plan";

/** The storage request of the StatefulSet's claim template. */
const CLAIM_TEMPLATE_SIZE_PATH = "spec.volumeClaimTemplates[0].spec.resources.requests.storage";

/** Length of the generated Erlang cookie and dashboard password. */
const GENERATED_SECRET_LENGTH = 32;

/**
 * A clustered EMQX MQTT broker on Kubernetes: a StatefulSet under a headless Service, with version-correct
 * discovery, generated secrets, a client Service and a PodDisruptionBudget. Unsafe changes to a running cluster
 * are refused at preview time.
 */
export class EmqxCluster extends pulumi.ComponentResource {
    /** The MQTT (1883) NodePort: the pinned one or the one Kubernetes allocated. Undefined for ClusterIP. */
    public readonly nodePort: pulumi.Output<number | undefined>;
    /** The dashboard (18083) NodePort. Undefined for ClusterIP. */
    public readonly dashboardNodePort: pulumi.Output<number | undefined>;
    /** The dashboard for a browser: `http://<externalHost>:<dashboardNodePort>` (LoadBalancer: its address, 18083). */
    public readonly dashboardUrl: pulumi.Output<string>;
    /** The MQTT URL for clients outside the cluster, e.g. `mqtt://localhost:31883`. */
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
    /** The dashboard admin password (secret). Changing it later does not change the account: EMQX reads it once. */
    public readonly dashboardPassword: pulumi.Output<string>;
    /**
     * How an MQTT client connects: URLs of every listener from outside and inside the cluster, TLS and where client
     * credentials live (never the dashboard account).
     */
    public readonly clientConfig: pulumi.Output<ClientConfig>;

    constructor(name: string, args: EmqxClusterArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("emqx:index:EmqxCluster", name, {}, opts);

        let plan;
        try {
            plan = planCluster(name, args);
        } catch (err) {
            if (err instanceof EmqxArgsError) {
                throw new pulumi.ResourceError(err.message, this);
            }
            throw err;
        }
        for (const warning of plan.warnings) {
            pulumi.log.warn(warning, this);
        }

        // Every Kubernetes object waits for the guard: an unsafe change stops the update before anything changes.
        const guard = new ChangeGuard(`${name}-guard`, plan.guard, { parent: this });
        const child = (dependsOn: pulumi.Resource[] = []): pulumi.CustomResourceOptions => ({
            parent: this,
            dependsOn: [guard, ...dependsOn],
        });

        const serviceAccount = new k8s.core.v1.ServiceAccount(`${name}-sa`, buildServiceAccount(plan), child());
        const rbac: pulumi.Resource[] = [serviceAccount];
        if (plan.discovery.needsEndpointsAccess) {
            const role = new k8s.rbac.v1.Role(`${name}-endpoints-reader`, buildEndpointsReaderRole(plan), child());
            rbac.push(
                role,
                new k8s.rbac.v1.RoleBinding(`${name}-endpoints-reader`, buildEndpointsReaderBinding(plan), child([role, serviceAccount])),
            );
        }

        const cookie = new GeneratedSecret(`${name}-cookie`, GENERATED_SECRET_LENGTH, { parent: this });
        const dashboardPassword: pulumi.Output<string> = args.dashboard?.password
            ? pulumi.secret(args.dashboard.password)
            : new GeneratedSecret(`${name}-dashboard-password`, GENERATED_SECRET_LENGTH, { parent: this }).value;
        // Any change replaces these auto-named objects under a new name, which rolls the pods, even when the
        // provider was told to treat ConfigMaps and Secrets as mutable (enableConfigMapMutable/enableSecretMutable).
        const replacedOnChange = { replaceOnChanges: ["*"] };
        const secret = new k8s.core.v1.Secret(
            `${name}-secrets`,
            buildSecret(plan, {
                cookie: cookie.value,
                dashboardPassword,
                licenseKey: plan.licenseKey === undefined ? undefined : pulumi.secret(plan.licenseKey),
            }),
            { ...child(), ...replacedOnChange },
        );
        const settings = new k8s.core.v1.ConfigMap(`${name}-settings`, buildSettingsConfigMap(plan), {
            ...child(),
            ...replacedOnChange,
        });
        const headless = new k8s.core.v1.Service(`${name}-headless`, buildHeadlessService(plan), child());

        // Each volume generation is its own StatefulSet resource: bumping it creates the new StatefulSet on new
        // claims before the old one is deleted, rather than replacing an object whose immutable fields changed,
        // which Kubernetes refuses and Pulumi cannot preview.
        const statefulSet = new k8s.apps.v1.StatefulSet(
            `${name}-sts${generationSuffix(plan.persistence.volumeGeneration)}`,
            buildStatefulSet(plan, { configMapName: settings.metadata.name, secretName: secret.metadata.name }),
            {
                ...child([...rbac, headless, settings, secret]),
                // The claim template is immutable; a larger storageSize reaches the claims through the resize
                // patches below instead.
                ignoreChanges: plan.persistence.enabled ? [CLAIM_TEMPLATE_SIZE_PATH] : [],
                deleteBeforeReplace: true,
            },
        );

        if (plan.persistence.enabled) {
            for (let ordinal = 0; ordinal < plan.replicas; ordinal++) {
                new k8s.core.v1.PersistentVolumeClaimPatch(
                    `${name}-data-${ordinal}`,
                    buildDataClaimResize(plan, ordinal),
                    // Forgetting a resize patch must never touch the claim or its data.
                    { ...child([statefulSet]), retainOnDelete: true },
                );
            }
        }

        // Both select the pods of this volume generation. A bump switches them to the new StatefulSet's pods, so
        // from generation 1 on they wait for it to be Ready; at generation 0 there is nothing to switch from, and
        // they are created alongside it rather than after its rollout.
        const afterSwitch = plan.persistence.volumeGeneration > 0 ? [statefulSet] : [];
        const client = new k8s.core.v1.Service(`${name}-client`, buildClientService(plan), child(afterSwitch));
        if (plan.createPodDisruptionBudget) {
            new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, buildPodDisruptionBudget(plan), child(afterSwitch));
        }

        this.nodePort = listenerNodePort(plan, client, "mqtt");
        this.dashboardNodePort = listenerNodePort(plan, client, "dashboard");
        this.dashboardUrl = url("http", externalEndpoint(plan, client, "dashboard"));
        this.headlessServiceName = headless.metadata.name;
        this.statefulSetName = statefulSet.metadata.name;
        this.namespace = pulumi.output(plan.namespace);
        this.nodeNames = pulumi.output(Array.from({ length: plan.replicas }, (_, i) => plan.names.nodeName(i)));
        this.dashboardUsername = pulumi.output(plan.dashboardUsername);
        this.dashboardPassword = pulumi.secret(dashboardPassword);
        this.clientConfig = pulumi
            .output({
                mqtt: externalEndpoint(plan, client, "mqtt"),
                mqtts: externalEndpoint(plan, client, "mqtts"),
                ws: externalEndpoint(plan, client, "ws"),
                wss: externalEndpoint(plan, client, "wss"),
            })
            .apply((external) => buildClientConfig(plan, external));
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
        });
    }
}
