import { AuthenticationArgs, DiscoveryMode } from "../components";

/**
 * One representative release per version family, and the discovery modes it supports. 4.0-4.2 cannot authenticate
 * clients through configuration, so its clusters accept anonymous clients explicitly.
 */
export const MATRIX: { version: string; modes: DiscoveryMode[]; licenseKey?: string; authentication?: AuthenticationArgs }[] = [
    { version: "v4.2.14", modes: ["k8s", "static", "etcd", "manual"], authentication: { allowAnonymous: true } },
    { version: "4.3.22", modes: ["k8s", "static", "etcd", "manual"] },
    { version: "4.4.19", modes: ["dns", "k8s", "static", "etcd", "manual"] },
    { version: "5.0.26", modes: ["dns", "k8s", "static", "etcd", "manual"] },
    { version: "5.3.2", modes: ["dns", "k8s", "static", "etcd", "manual"] },
    { version: "5.8.9", modes: ["dns", "k8s", "static", "etcd", "manual"] },
    { version: "5.10.1", modes: ["dns", "k8s", "static", "etcd", "manual"], licenseKey: "key-with-#-inside" },
];
