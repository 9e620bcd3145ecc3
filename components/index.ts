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
export {
    ClientAuthConfig,
    ClientConfig,
    ClientTlsConfig,
    MqttEndpoint,
    MqttListenerConfig,
    MqttListeners,
} from "./client-config";
