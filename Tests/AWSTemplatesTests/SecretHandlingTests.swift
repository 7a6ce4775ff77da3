import Foundation
import Testing

@testable import AWSTemplates
import Stack

/// Secrets are referenced by name or ARN only; a secret's value never reaches a template or an error.
@Suite("Secrets stay out of templates")
struct SecretHandlingTests {
    static let token = TemplateFixtures.leakedToken

    @Test("A token written into settings is refused, and the error does not repeat it", arguments: [
        "source_credentials: [{server_type: GITHUB, secret: ci/github, token: \(token)}]",
        "source_credentials: [{server_type: GITHUB, secret: ci/github, password: \(token)}]",
        "ci_build: {source: {location: \"https://github.com/a/b\"}, environment: {variables: {GITHUB_TOKEN: \(token)}}}",
        "service: {image: \"r/x@\(TemplateFixtures.digest)\", environment: {DB_PASSWORD: \(token)}}",
        "event_job: {image: \"123456789012.dkr.ecr.us-east-1.amazonaws.com/x@\(TemplateFixtures.digest)\", environment: {API_KEY: \(token)}}",
    ])
    func refused(body: String) {
        let error = #expect(throws: StackFileError.self) { try TemplateFixtures.settings("aws:\n  project: hello\n  " + body) }
        #expect(error?.message.contains("holds a secret value") == true, "\(String(describing: error))")
        #expect(error?.location?.line == 3)
        #expect(error?.description.contains(Self.token) == false)
        #expect(error?.description.contains("Secrets Manager") == true)
        #expect("\(String(describing: error))".contains(Self.token) == false)
    }

    @Test("Templates carry secret names, dynamic references and ARNs, never values")
    func referencedByName() throws {
        let settings = try TemplateFixtures.settings(TemplateFixtures.realistic)
        let credentials = try settings.template(for: .sourceCredentials).jsonString()
        #expect(credentials.contains("{{resolve:secretsmanager:ci/github:SecretString:token}}"))
        #expect(credentials.contains("{{resolve:secretsmanager:ci/bitbucket:SecretString:app_password}}"))
        let ci = try settings.template(for: .ciBuild).jsonString()
        #expect(ci.contains(#""Type": "SECRETS_MANAGER""#) && ci.contains(#""Value": "ci/dockerhub:AccessToken""#))
        let service = try settings.template(for: .service).jsonString()
        #expect(service.contains(#""ValueFrom": "prod/hello/db""#))
        #expect(service.contains("secret:prod/hello/db-??????"))
        // The token value never appears in any kind's template, in either form.
        for kind in settings.stacks {
            let template = try settings.template(for: kind)
            #expect(!template.jsonString().contains(Self.token))
            #expect(!template.yamlString().contains(Self.token))
            #expect(!template.jsonString().lowercased().contains("ghp_"))
        }
    }
}
