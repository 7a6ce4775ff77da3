import Foundation
import Stack

/// The `service` template: an ECS Fargate service behind an application load balancer, in the
/// given VPC or a new minimal one (two public subnets in two availability zones).
enum ServiceTemplate {
    static func make(_ settings: AWSSettings, _ service: ServiceSettings, image: String) -> CloudFormationTemplate {
        let kind = StackKind.service
        let names = ResourceNames(project: settings.project, kind: kind)
        let tags = TemplateParts.tags(settings, kind)
        func named(_ name: String) -> TemplateValue { TemplateParts.tags(settings, kind, name: name) }
        var resources: [String: CloudFormationTemplate.Resource] = [:]

        // Network: the given VPC, or a new one with two public subnets.
        let vpc: TemplateValue
        let subnets: [TemplateValue]
        var loadBalancerDependsOn: [String] = []
        if let vpcId = service.vpcId {
            vpc = .string(vpcId)
            subnets = service.subnetIds.map { .string($0) }
        } else {
            resources["VPC"] = .init("AWS::EC2::VPC", properties: [
                "CidrBlock": "10.0.0.0/16", "EnableDnsHostnames": true, "EnableDnsSupport": true, "Tags": named(names.name("vpc", maxLength: 255)),
            ])
            resources["InternetGateway"] = .init("AWS::EC2::InternetGateway", properties: ["Tags": named(names.name("igw", maxLength: 255))])
            resources["GatewayAttachment"] = .init("AWS::EC2::VPCGatewayAttachment", properties: ["VpcId": .ref("VPC"), "InternetGatewayId": .ref("InternetGateway")])
            resources["PublicRouteTable"] = .init("AWS::EC2::RouteTable", properties: ["VpcId": .ref("VPC"), "Tags": named(names.name("public", maxLength: 255))])
            resources["PublicDefaultRoute"] = .init("AWS::EC2::Route", properties: [
                "RouteTableId": .ref("PublicRouteTable"), "DestinationCidrBlock": "0.0.0.0/0", "GatewayId": .ref("InternetGateway"),
            ], dependsOn: ["GatewayAttachment"])
            for index in 0..<2 {
                let subnet = "PublicSubnet\(index + 1)"
                resources[subnet] = .init("AWS::EC2::Subnet", properties: [
                    "VpcId": .ref("VPC"), "CidrBlock": .string("10.0.\(index).0/24"),
                    "AvailabilityZone": .select(index, .getAZs()), "MapPublicIpOnLaunch": true,
                    "Tags": named(names.name("public-\(index + 1)", maxLength: 255)),
                ])
                resources["\(subnet)RouteTableAssociation"] = .init("AWS::EC2::SubnetRouteTableAssociation", properties: [
                    "SubnetId": .ref(subnet), "RouteTableId": .ref("PublicRouteTable"),
                ])
            }
            vpc = .ref("VPC")
            subnets = [.ref("PublicSubnet1"), .ref("PublicSubnet2")]
            // An internet-facing load balancer needs the gateway attached first (AWS's documented DependsOn case).
            loadBalancerDependsOn = ["GatewayAttachment"]
        }

        // Security groups: the load balancer is open on its listener port; tasks only to it.
        resources["LoadBalancerSecurityGroup"] = .init("AWS::EC2::SecurityGroup", properties: [
            "GroupDescription": .string("\(settings.project) load balancer: port \(service.listenerPort) from anywhere"),
            "VpcId": vpc,
            "SecurityGroupIngress": [["IpProtocol": "tcp", "FromPort": .int(service.listenerPort), "ToPort": .int(service.listenerPort), "CidrIp": "0.0.0.0/0", "Description": "Clients"]],
            "Tags": named(names.name("alb", maxLength: 255)),
        ])
        resources["TaskSecurityGroup"] = .init("AWS::EC2::SecurityGroup", properties: [
            "GroupDescription": .string("\(settings.project) tasks: port \(service.port) from the load balancer only"),
            "VpcId": vpc,
            "SecurityGroupIngress": [[
                "IpProtocol": "tcp", "FromPort": .int(service.port), "ToPort": .int(service.port),
                "SourceSecurityGroupId": .getAtt("LoadBalancerSecurityGroup", "GroupId"), "Description": "The load balancer",
            ]],
            "Tags": named(names.name("tasks", maxLength: 255)),
        ])

        // Load balancer, target group (unnamed: a named one cannot be replaced when its port changes), listener.
        resources["LoadBalancer"] = .init("AWS::ElasticLoadBalancingV2::LoadBalancer", properties: [
            "Name": .string(names.name(maxLength: 32)),
            "Type": "application", "Scheme": "internet-facing",
            "Subnets": .array(subnets), "SecurityGroups": [.getAtt("LoadBalancerSecurityGroup", "GroupId")],
            "LoadBalancerAttributes": [["Key": "routing.http.drop_invalid_header_fields.enabled", "Value": "true"]],
            "Tags": tags,
        ], dependsOn: loadBalancerDependsOn)
        resources["TargetGroup"] = .init("AWS::ElasticLoadBalancingV2::TargetGroup", properties: [
            "TargetType": "ip", "Protocol": "HTTP", "Port": .int(service.port), "VpcId": vpc,
            "HealthCheckPath": .string(service.healthCheckPath), "HealthCheckProtocol": "HTTP",
            "Matcher": ["HttpCode": "200-399"],
            "TargetGroupAttributes": [["Key": "deregistration_delay.timeout_seconds", "Value": "30"]],
            "Tags": named(names.name("targets", maxLength: 255)),
        ])
        var listener: [String: TemplateValue] = [
            "LoadBalancerArn": .ref("LoadBalancer"), "Port": .int(service.listenerPort),
            "DefaultActions": [["Type": "forward", "TargetGroupArn": .ref("TargetGroup")]],
        ]
        if let certificate = service.certificateArn {
            listener["Protocol"] = "HTTPS"
            listener["Certificates"] = [["CertificateArn": .string(certificate)]]
            listener["SslPolicy"] = "ELBSecurityPolicy-TLS13-1-2-2021-06"
        } else {
            listener["Protocol"] = "HTTP"
        }
        resources["Listener"] = .init("AWS::ElasticLoadBalancingV2::Listener", properties: listener)

        // Logs, roles, task definition, cluster, service.
        let logGroupName = "/stackship/\(settings.project)/service"
        resources["LogGroup"] = TemplateParts.logGroup(name: logGroupName, retentionDays: service.logRetentionDays, tags: tags)
        let secretStatements = service.secrets.isEmpty ? [] : [
            IAMStatement(sid: "NamedSecrets", actions: ["secretsmanager:GetSecretValue"], resources: Set(service.secrets.values).sorted().map(ARN.secret))
        ]
        resources["ExecutionRole"] = TemplateParts.role(
            name: names.name("execution", maxLength: 64), service: "ecs-tasks.amazonaws.com", policyName: "secrets",
            statements: secretStatements,
            managedPolicies: [.sub("arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy")],
            tags: tags, description: "Lets ECS pull \(settings.project)'s image and write its logs")
        resources["TaskRole"] = TemplateParts.role(
            name: names.name("task", maxLength: 64), service: "ecs-tasks.amazonaws.com", policyName: "task",
            statements: [], tags: tags, description: "The role \(settings.project)'s containers run as (no permissions)")

        let containerName = settings.project
        var container: [String: TemplateValue] = [
            "Name": .string(containerName), "Image": .string(image), "Essential": true,
            "PortMappings": [["ContainerPort": .int(service.port), "Protocol": "tcp"]],
            "LogConfiguration": [
                "LogDriver": "awslogs",
                "Options": ["awslogs-group": .ref("LogGroup"), "awslogs-region": .region, "awslogs-stream-prefix": .string(settings.project)],
            ],
        ]
        if !service.environment.isEmpty {
            container["Environment"] = .array(service.environment.sorted { $0.key < $1.key }.map { ["Name": .string($0.key), "Value": .string($0.value)] })
        }
        if !service.secrets.isEmpty {
            container["Secrets"] = .array(service.secrets.sorted { $0.key < $1.key }.map { ["Name": .string($0.key), "ValueFrom": .string($0.value)] })
        }
        resources["TaskDefinition"] = .init("AWS::ECS::TaskDefinition", properties: [
            "Family": .string(names.name(maxLength: 255)),
            "RequiresCompatibilities": ["FARGATE"], "NetworkMode": "awsvpc",
            "Cpu": .string(String(service.cpu)), "Memory": .string(String(service.memory)),
            "ExecutionRoleArn": .getAtt("ExecutionRole", "Arn"), "TaskRoleArn": .getAtt("TaskRole", "Arn"),
            "ContainerDefinitions": [.object(container)],
            "Tags": tags,
        ])
        resources["Cluster"] = .init("AWS::ECS::Cluster", properties: [
            "ClusterName": .string(names.name(maxLength: 255)),
            "ClusterSettings": [["Name": "containerInsights", "Value": "enabled"]],
            "Tags": tags,
        ])
        resources["Service"] = .init("AWS::ECS::Service", properties: [
            "ServiceName": .string(names.name(maxLength: 255)),
            "Cluster": .ref("Cluster"), "TaskDefinition": .ref("TaskDefinition"),
            "LaunchType": "FARGATE", "DesiredCount": .int(service.desiredCount),
            "HealthCheckGracePeriodSeconds": 60,
            "DeploymentConfiguration": [
                "DeploymentCircuitBreaker": ["Enable": true, "Rollback": true],
                "MaximumPercent": 200, "MinimumHealthyPercent": 100,
            ],
            "NetworkConfiguration": ["AwsvpcConfiguration": [
                "AssignPublicIp": service.assignPublicIp ? "ENABLED" : "DISABLED",
                "SecurityGroups": [.getAtt("TaskSecurityGroup", "GroupId")],
                "Subnets": .array(subnets),
            ]],
            "LoadBalancers": [["ContainerName": .string(containerName), "ContainerPort": .int(service.port), "TargetGroupArn": .ref("TargetGroup")]],
            "PropagateTags": "SERVICE",
            "Tags": tags,
        ], dependsOn: ["Listener"])  // the target group must be attached to the load balancer first

        let scheme = service.certificateArn == nil ? "http" : "https"
        let defaultPort = scheme == "http" ? 80 : 443
        let portSuffix = service.listenerPort == defaultPort ? "" : ":\(service.listenerPort)"
        return CloudFormationTemplate(
            description: "Stackship \(settings.project): ECS Fargate service behind an application load balancer"
                + (service.vpcId == nil ? " in a new VPC" : " in \(service.vpcId!)"),
            resources: resources,
            outputs: [
                "LoadBalancerURL": .init(.sub("\(scheme)://${LoadBalancer.DNSName}\(portSuffix)"), description: "The service's URL"),
                "ClusterName": .init(.ref("Cluster"), description: "The ECS cluster"),
                "ServiceName": .init(.getAtt("Service", "Name"), description: "The ECS service"),
            ])
    }
}
