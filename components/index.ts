export { EmqxCluster } from "./emqx-cluster";
export {
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
export { AuthenticationArgs, AuthorizationArgs, AuthorizationNoMatch, AuthorizationRulesArgs, MqttUsersArgs, SecretKeyRef } from "./auth";
export {
    ClientAuthConfig,
    ClientConfig,
    ClientTlsConfig,
    MqttEndpoint,
    MqttListenerConfig,
    MqttListeners,
} from "./client-config";
