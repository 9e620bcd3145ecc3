import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EmqxCluster } from "@emqx-pulumi/emqx";

const config = new pulumi.Config();

// The target cluster is this program's explicit choice, never whatever kubeconfig happens to be current.
const provider = new k8s.Provider("messaging-cluster", {
    kubeconfig: config.require("kubeconfig"),
    context: config.require("kubeContext"),
});

// EmqxCluster checks its namespace (a plain name) before creating anything, so the name is fixed here rather than
// taken from the Namespace's outputs; dependsOn makes every object of the cluster wait for the Namespace.
const namespaceName = config.require("namespace");
const namespace = new k8s.core.v1.Namespace(namespaceName, { metadata: { name: namespaceName } }, { provider });

const broker = new EmqxCluster(
    "broker",
    {
        namespace: namespaceName,
        replicas: 3,
        externalHost: config.require("externalHost"),
    },
    // `providers` reaches every object the component creates; a component's `provider` would do the same.
    { providers: [provider], dependsOn: [namespace] },
);

export const mqttUrl = broker.mqttUrl;
export const mqttInternalUrl = broker.mqttInternalUrl;
export const clientConfig = broker.clientConfig;
export const brokerNamespace = broker.namespace;
