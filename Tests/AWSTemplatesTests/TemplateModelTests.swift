import Foundation
import Testing

@testable import AWSTemplates
import Stack

/// The template value type and its renderings.
@Suite("CloudFormation template model")
struct TemplateModelTests {
    @Test("Intrinsic functions render in CloudFormation's JSON form")
    func intrinsics() {
        let template = CloudFormationTemplate(
            description: "model",
            parameters: ["Stage": .init(type: "String", defaultValue: "prod", allowedValues: ["dev", "prod"])],
            conditions: ["IsProd": .equals(.ref("Stage"), "prod")],
            resources: ["Topic": .init("AWS::SNS::Topic", properties: [
                "TopicName": .if("IsProd", .sub("${AWS::StackName}-prod"), .noValue),
                "DisplayName": .join("-", ["a", .select(0, .getAZs())]),
                "Other": .sub("${X}", ["X": .getAtt("Queue", "Arn")]),
            ], dependsOn: ["Queue"])],
            outputs: ["Arn": .init(.ref("Topic"), exportName: .sub("${AWS::StackName}-arn"))])
        let json = template.jsonString()
        let compact = TemplateParts.compactJSON(template.templateValue)
        #expect(compact.contains(#"{"Fn::If":["IsProd",{"Fn::Sub":"${AWS::StackName}-prod"},{"Ref":"AWS::NoValue"}]}"#))
        #expect(compact.contains(#"{"Fn::Join":["-",["a",{"Fn::Select":["0",{"Fn::GetAZs":""}]}]]}"#))
        #expect(compact.contains(#"{"Fn::Sub":["${X}",{"X":{"Fn::GetAtt":["Queue","Arn"]}}]}"#))
        #expect(compact.contains(#""Conditions":{"IsProd":{"Fn::Equals":[{"Ref":"Stage"},"prod"]}}"#))
        #expect(compact.contains(#""DependsOn":["Queue"]"#))
        #expect(compact.contains(#""Export":{"Name":{"Fn::Sub":"${AWS::StackName}-arn"}}"#))
        #expect(compact.contains(#""Parameters":{"Stage":{"AllowedValues":["dev","prod"],"Default":"prod","Type":"String"}}"#))
        #expect(json.hasPrefix("{\n  \"AWSTemplateFormatVersion\": \"2010-09-09\",\n  \"Conditions\": {\n    \"IsProd\": {\n      \"Fn::Equals\": [\n        {\n"))
        // Sorted keys at the top: AWSTemplateFormatVersion, Conditions, Description, Outputs, Parameters, Resources.
        let order = ["AWSTemplateFormatVersion", "Conditions", "Description", "Outputs", "Parameters", "Resources"].map { json.range(of: "\n  \"\($0)\"")!.lowerBound }
        #expect(order == order.sorted())
    }

    @Test("Strings are escaped for JSON and YAML alike; slashes and non-ASCII stay as they are")
    func escaping() throws {
        let value: TemplateValue = ["k": "a\"b\\c\nd\u{1}/é: #x", "yes": "no", "Fn::Sub": "1"]
        let template = CloudFormationTemplate(resources: ["R": .init("AWS::SNS::Topic", properties: ["V": value])])
        let json = template.jsonString()
        #expect(json.contains(#""a\"b\\c\nd\u0001/é: #x""#))
        let parsed = try JSONSerialization.jsonObject(with: template.jsonData()) as? NSDictionary
        #expect(try YAMLCheck.jsonEquivalent(of: template.yamlString()) == parsed)
        #expect(template.yamlString().contains(#""yes": "no""#), "a YAML 1.1 boolean word as a key is quoted")
    }

    @Test("Long names are shortened deterministically with a hash")
    func names() {
        #expect(ResourceNames.fit("short", maxLength: 32) == "short")
        let long = ResourceNames.fit("data-pipeline-with-a-long-name-x-service", maxLength: 32)
        #expect(long.count == 32)
        #expect(long == ResourceNames.fit("data-pipeline-with-a-long-name-x-service", maxLength: 32))
        #expect(long != ResourceNames.fit("data-pipeline-with-a-long-name-y-service", maxLength: 32))
        let names = ResourceNames(project: "data-pipeline-with-a-long-name-x", kind: .releaseBuild)
        let bucket = names.bucketNameSub("release-artifacts")
        let worst = bucket.replacingOccurrences(of: "${AWS::AccountId}", with: "123456789012").replacingOccurrences(of: "${AWS::Region}", with: "us-isof-south-1")
        #expect(worst.count <= 63)
        #expect(StackKind.ciBuild.stackName(project: "hello") == "hello-ci-build")
        #expect(StackKind.sourceCredentials.stackName(project: "hello") == "stackship-source-credentials")
    }
}
