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
export { MetricsBasicAuthArgs, MonitorKind, MonitoringArgs } from "./monitoring";
export { IngressArgs, IngressRouteArgs } from "./ingress";
export { TlsArgs, TlsCertificateArgs, TlsIssuerRefArgs } from "./tls";
export { AuthenticationArgs, AuthorizationArgs, AuthorizationNoMatch, AuthorizationRulesArgs, MqttUsersArgs, SecretKeyRef } from "./auth";
export { NetworkPolicyArgs, NetworkPolicyEgressRuleArgs, NetworkPolicyPortArgs } from "./network-policy";
export {
    ClientAuthConfig,
    ClientConfig,
    ClientTlsConfig,
    MqttEndpoint,
    MqttListenerConfig,
    MqttListeners,
    SecretKeyReference,
} from "./client-config";
