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
export {
    ClientAuthConfig,
    ClientConfig,
    ClientTlsConfig,
    MqttEndpoint,
    MqttListenerConfig,
    MqttListeners,
} from "./client-config";
