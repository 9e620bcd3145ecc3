import * as assert from "assert";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Secret } from "kubernetes-models/v1/Secret";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { PersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { PodMonitor, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { Certificate } from "@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { EmqxClusterArgs } from "../components";
import { RegisteredResource, TYPES, kubernetesObjects } from "./harness";
import { deploy } from "./deploy";

/**
 * The maintained Kubernetes OpenAPI models, by the Pulumi type of the object they validate; the Prometheus Operator's
 * monitors and cert-manager's Certificate by the models generated from the OpenAPI schema of their CRDs.
 */
const MODELS: Record<string, (object: any) => { validate(): void }> = {
    [TYPES.serviceAccount]: (o) => new ServiceAccount(o),
    [TYPES.secret]: (o) => new Secret(o),
    [TYPES.configMap]: (o) => new ConfigMap(o),
    [TYPES.service]: (o) => new Service(o),
    [TYPES.statefulSet]: (o) => new StatefulSet(o),
    [TYPES.pdb]: (o) => new PodDisruptionBudget(o),
    [TYPES.role]: (o) => new Role(o),
    [TYPES.roleBinding]: (o) => new RoleBinding(o),
    [TYPES.ingress]: (o) => new Ingress(o),
    [TYPES.serviceMonitor]: (o) => new ServiceMonitor(o),
    [TYPES.podMonitor]: (o) => new PodMonitor(o),
    [TYPES.certificate]: (o) => new Certificate(o),
    [TYPES.networkPolicy]: (o) => new NetworkPolicy(o),
};

/** A patch is a partial object; validated as the claim it patches, completed with what the claim already has. */
function asPatchedClaim(patch: Record<string, any>): PersistentVolumeClaim {
    return new PersistentVolumeClaim({
        metadata: patch.metadata,
        spec: { accessModes: ["ReadWriteOnce"], ...patch.spec },
    });
}

function validate(object: RegisteredResource): void {
    const { apiVersion, kind, ...rest } = object.state;
    if (object.type === TYPES.pvcPatch) {
        asPatchedClaim(object.state).validate();
        return;
    }
    const model = MODELS[object.type];
    assert.ok(model, `no OpenAPI model for ${object.type}`);
    model({ apiVersion, kind, ...rest }).validate();
}

const CASES: [string, EmqxClusterArgs][] = [
    ["defaults", {}],
    ["k8s discovery, LoadBalancer, pinned ports", { discovery: "k8s", serviceType: "LoadBalancer", nodePorts: { mqtt: 31883 } }],
    [
        "LoadBalancer with client Service options and an exposed dashboard",
        {
            serviceType: "LoadBalancer",
            service: {
                annotations: { "service.beta.kubernetes.io/aws-load-balancer-type": "nlb" },
                loadBalancerSourceRanges: ["203.0.113.0/24"],
                loadBalancerClass: "service.k8s.aws/nlb",
                externalTrafficPolicy: "Local",
            },
            dashboard: { service: { type: "NodePort", nodePort: 31808 } },
        },
    ],
    ["static 4.4 with resources", { version: "4.4.19", discovery: "static", resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } } }],
    ["etcd with TLS, ClusterIP", { discovery: "etcd", serviceType: "ClusterIP", etcd: { endpoints: ["https://etcd:2379"], tlsSecretName: "etcd-tls" } }],
    ["single node without persistence", { discovery: "manual", replicas: 1, persistence: false }],
    ["licensed 5.10 cluster", { version: "5.10.1", licenseKey: "key" }],
    ["TLS from an existing Secret, with the dashboard", { tls: { secretName: "mqtt-tls", caFromSecret: true, dashboard: true }, dashboard: { service: { type: "NodePort" } } }],
    [
        "TLS from a cert-manager Certificate",
        {
            externalHost: "203.0.113.7",
            tls: { certificate: { issuerRef: { name: "letsencrypt", kind: "ClusterIssuer" }, dnsNames: ["mqtt.example.com"], duration: "2160h", renewBefore: "360h" } },
        },
    ],
    [
        "NetworkPolicy with every peer kind, restricted egress, fewer listeners",
        {
            discovery: "etcd",
            etcd: { endpoints: ["https://etcd:2379"] },
            service: { listeners: ["mqtts", "wss"] },
            networkPolicy: {
                clients: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16"] } }, { ipBlock: { cidr: "2001:db8::/32" } }],
                dashboard: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } }, podSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["ingress"] }] } }],
                metrics: [{ podSelector: { matchLabels: { app: "prometheus" } } }],
                egress: [{ to: [{ ipBlock: { cidr: "10.20.0.0/16" } }], ports: [{ port: 5432, protocol: "TCP" }] }, { ports: [{ port: 9092 }] }],
            },
        },
    ],
    [
        "placement and pod options",
        {
            replicas: 5,
            placement: {
                nodeSelector: { pool: "mqtt" },
                tolerations: [{ key: "dedicated", operator: "Equal", value: "mqtt", effect: "NoSchedule" }],
                affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "Exists" }] }] } } },
                topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "DoNotSchedule" }],
                priorityClassName: "high",
                disruptionBudget: { minAvailable: 3 },
            },
            pod: {
                labels: { team: "iot" },
                annotations: { "example.com/inject": "true" },
                serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": "emqx@project.iam.gserviceaccount.com" },
                imagePullSecrets: ["regcred"],
                imagePullPolicy: "Always",
                terminationGracePeriodSeconds: 90,
                minReadySeconds: 5,
                probes: { liveness: { periodSeconds: 20 } },
            },
            containers: {
                env: [{ name: "TZ", value: "UTC" }, { name: "EMQX_AUTHENTICATION__1__PASSWORD", valueFrom: { secretKeyRef: { name: "auth", key: "password" } } }],
                volumes: [{ name: "certs", secret: { secretName: "emqx-tls", defaultMode: 0o440 } }],
                volumeMounts: [{ name: "certs", mountPath: "/opt/emqx/etc/certs/custom", readOnly: true }],
                initContainers: [{ name: "sysctl", image: "busybox:1.36", command: ["sysctl", "-w", "net.core.somaxconn=32768"], securityContext: { privileged: true } }],
                sidecars: [{ name: "log-shipper", image: "fluent/fluent-bit:3.1", volumeMounts: [{ name: "log", mountPath: "/var/log/emqx", readOnly: true }] }],
            },
        },
    ],
    [
        "a ServiceMonitor with basic auth, and Ingresses for the dashboard and WebSocket",
        {
            emqxConfig: { "prometheus.enable_basic_auth": "true" },
            monitoring: { labels: { release: "kube-prometheus-stack" }, interval: "30s", scrapeTimeout: "10s", basicAuth: { secretName: "emqx-metrics" } },
            ingress: {
                dashboard: { host: "emqx.example.com", ingressClassName: "nginx", tlsSecretName: "emqx-tls", annotations: { "cert-manager.io/cluster-issuer": "letsencrypt" } },
                ws: { host: "mqtt.example.com", path: "/mqtt" },
            },
        },
    ],
    ["a 4.x PodMonitor with the management application's credentials", { version: "4.4.10", discovery: "k8s", monitoring: { kind: "PodMonitor", interval: "1m", basicAuth: { secretName: "emqx-app" } } }],
];

describe("every object passes the Kubernetes OpenAPI schema", () => {
    for (const [title, args] of CASES) {
        it(title, async () => {
            const objects = kubernetesObjects((await deploy(args)).resources);
            assert.ok(objects.length >= 6, "too few objects to be a cluster");
            for (const object of objects) {
                assert.doesNotThrow(() => validate(object), (err: Error) => `${object.type} ${object.name}: ${err.message}`);
            }
            const types = objects.map((o) => o.type);
            assert.strictEqual(types.filter((t) => t === TYPES.serviceMonitor || t === TYPES.podMonitor).length, args.monitoring ? 1 : 0);
            assert.strictEqual(types.filter((t) => t === TYPES.ingress).length, Object.keys(args.ingress ?? {}).length);
        });
    }

    it("catches a ServiceMonitor and an Ingress the schemas reject", () => {
        const monitor = { type: TYPES.serviceMonitor, name: "m", state: { apiVersion: "monitoring.coreos.com/v1", kind: "ServiceMonitor", metadata: { name: "m" }, spec: { selector: {}, endpoints: [{ interval: "30" }] } } };
        assert.throws(() => validate(monitor as unknown as RegisteredResource));
        const ingress = { type: TYPES.ingress, name: "i", state: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "i" }, spec: { rules: [{ http: { paths: [{ path: "/" }] } }] } } };
        assert.throws(() => validate(ingress as unknown as RegisteredResource));
    });

    it("catches an object the schema rejects", () => {
        const broken = { type: TYPES.service, name: "x", state: { apiVersion: "v1", kind: "Service", metadata: { name: "x" }, spec: { ports: [{ port: "not-a-number" }] } } };
        assert.throws(() => validate(broken as unknown as RegisteredResource));
        const policy = { type: TYPES.networkPolicy, name: "x", state: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: "x" }, spec: { podSelector: {}, ingress: [{ ports: [{ port: 1883, protocol: "MQTT" }] }] } } };
        assert.throws(() => validate(policy as unknown as RegisteredResource));
    });

    it("catches a Certificate cert-manager's schema rejects", () => {
        const certificate = (spec: Record<string, unknown>) =>
            ({ type: TYPES.certificate, name: "x", state: { apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name: "x" }, spec } }) as unknown as RegisteredResource;
        assert.doesNotThrow(() => validate(certificate({ secretName: "x", issuerRef: { name: "ca" } })));
        assert.throws(() => validate(certificate({ secretName: "x" })), /issuerRef/);
        assert.throws(() => validate(certificate({ secretName: "x", issuerRef: { name: "ca" }, privateKey: { rotationPolicy: "Sometimes" } })));
    });
});
