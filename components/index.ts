export { EmqxCluster } from "./emqx-cluster";
export {
    DashboardArgs,
    DiscoveryMode,
    EmqxClusterArgs,
    EtcdArgs,
    IpFamily,
    NodePortsArgs,
    ResourcesArgs,
    ServiceType,
    VolumeRetention,
} from "./args";
export { DisruptionBudgetArgs, PlacementArgs, PodArgs, ProbeTimingArgs, ProbesArgs } from "./placement";
export { ContainersArgs, ExtraContainerArgs } from "./extras";
export {
    ClientAuthConfig,
    ClientConfig,
    ClientTlsConfig,
    MqttEndpoint,
    MqttListenerConfig,
    MqttListeners,
} from "./client-config";
