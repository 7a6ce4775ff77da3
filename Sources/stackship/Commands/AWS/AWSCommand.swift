import ArgumentParser
import AWS
import AWSTemplates
import Foundation
import Stack

/// `stackship aws …`: the CloudFormation stacks described by the stack file's `aws:` section.
struct AWSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "Render, validate, deploy, inspect and destroy the AWS stacks of the stack file; start CodeBuild builds.",
        discussion: """
        Stack kinds: \(StackKind.helpList). Each needs its section \
        under 'aws:' in the stack file (ci_build for ci-build, ...).

        Credentials, region and endpoint are found as the AWS CLI finds them (--profile/AWS_PROFILE, \
        --region/AWS_REGION, --endpoint-url/AWS_ENDPOINT_URL).

        Examples:
          stackship aws render --all --output cfn/
          stackship aws deploy registry ci-build
          stackship aws status
          stackship aws destroy event-job --purge --yes
        """,
        subcommands: [AWSRenderCommand.self, AWSValidateCommand.self, AWSDeployCommand.self, AWSStatusCommand.self,
                      AWSDestroyCommand.self, AWSStartBuildCommand.self]
    )
}

struct AWSRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write the CloudFormation templates (<kind>.json) into a folder.",
        discussion: "All templates are built before any is written, and each file is written atomically, so a failure leaves no half-written template."
    )

    @Argument(help: "Stack kinds to render.") var kinds: [String] = []
    @Flag(help: "Render every kind the stack file has settings for.") var all = false
    @Option(name: [.short, .long], help: ArgumentHelp("The folder to write into.", valueName: "dir")) var output: String
    @OptionGroup var aws: AWSOptions
    @OptionGroup var image: ServiceImageOptions

    func run() throws {
        let command = self
        guard let reference = image.image else { return try CLI.run { try command.render(command.aws.settings()) } }
        try AsyncCLI.run {
            let aws = command.aws
            let settings = try await aws.withClient { client in
                try await ServiceImage.pin(reference, in: try aws.settings(), aws: aws, client: client, store: command.image.storeOptions)
            }
            try command.render(settings)
        }
    }

    func render(_ settings: AWSSettings) throws {
        let selected = try AWSOptions.kinds(kinds, all: all, settings: settings, defaultAll: false)
        let folder = URL(fileURLWithPath: CLI.absolute(output))
        let written: [StackKind: URL]
        do { written = try settings.render(to: folder, kinds: selected) } catch let error as TemplateError {
            throw AWSCommandError.settings(path: nil, error: error)
        }
        for kind in selected { if let url = written[kind] { print("\(kind): \(url.path)") } }
    }
}

struct AWSValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check templates with CloudFormation's ValidateTemplate."
    )

    @Argument(help: "Stack kinds to validate (default: every kind with settings).") var kinds: [String] = []
    @OptionGroup var aws: AWSOptions
    @OptionGroup var image: ServiceImageOptions

    func run() throws {
        let aws = aws, names = kinds, image = image
        try AsyncCLI.run {
            try await aws.withStacks(names, image: image) { settings, selected, cfn in
                for kind in selected {
                    let summary = try await cfn.validateTemplate(body: try settings.template(for: kind).jsonString())
                    let caps = summary.capabilities.isEmpty ? "" : " (needs \(summary.capabilities.joined(separator: ", ")))"
                    Out.line("\(kind): valid\(caps)")
                }
            }
        }
    }
}

extension StackKind {
    /// "source-credentials, ci-build, ...". Every command's tree builds this text, so a plain loop:
    /// the generic `joined(separator:)` costs run-time witness lookups on each start (~0.25 ms).
    static var helpList: String {
        var out = ""
        for kind in allCases { out += (out.isEmpty ? "" : ", ") + kind.rawValue }
        return out
    }
}
