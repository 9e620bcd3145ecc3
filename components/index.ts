export { EmqxCluster } from "./emqx-cluster";
export {
    ClientListener,
    ClientServiceArgs,
    DashboardArgs,
    DashboardServiceArgs,
    DiscoveryMode,
    EmqxClusterArgs,
    EtcdArgs,
    ExternalTrafficPolicy,
    IpFamily,
    NodePortsArgs,
    ResourcesArgs,
    ServiceType,
    VolumeRetention,
} from "./args";
export { DisruptionBudgetArgs, PlacementArgs, PodArgs, ProbeTimingArgs, ProbesArgs } from "./placement";
export { ContainersArgs, ExtraContainerArgs } from "./extras";
export { NetworkPolicyArgs, NetworkPolicyEgressRuleArgs, NetworkPolicyPortArgs } from "./network-policy";
export {
    ClientAuthConfig,
    ClientConfig,
    ClientTlsConfig,
    MqttEndpoint,
    MqttListenerConfig,
    MqttListeners,
} from "./client-config";
