import AWS
import Foundation
import OCI
import StackshipTesting
import Testing

/// The containerised web-service course, as one user would go through it, with stackship
/// alone: the Go server of Examples/docker-cloud (Debian's golang-go, on a real Debian base from
/// a loopback registry) built from a stack file that names its Dockerfile, run with `-dp`,
/// answering, seen by `ps` from another folder, tested with `stackship test`; then its AWS side
/// on moto_server: the registry and the service (the image resolved by `--image`), destroy
/// --purge and deploy again, and `public: true` on a later run.
///
/// moto's ECR has no registry API, so "push" to it is ECR's PutImage of the store's manifest
/// with its digest; and moto's CloudFormation has no ECR Public, so the public run ends in the
/// clear message that says so.
@Suite(.serialized) struct DockerCloudCourseIntegrationTests {
    @Test func theCourseFromSourcesToAServiceAndBack() async throws {
        try requireTool("runc", package: "runc")
        try requireTool("curl", package: "curl")
        try await withDebianRegistry { registry in
            try await MotoServer.with { moto in
                let p = try AWSProject(endpoint: moto.endpoint)
                let state = p.path + "/state", elsewhere = p.path + "/elsewhere"
                try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
                var env = p.environment
                env["STACKSHIP_STATE"] = state
                func stackship(_ args: [String], in cwd: String) throws -> Result {
                    try run(try stackshipBinary(), args, cwd: cwd, env: env)
                }
                let course = p.path + "/docker-cloud"
                let copy = try run("cp", ["-a", dockerCloudExample, course])
                #expect(copy.status == 0, "\(copy.err)")
                try p.write("docker-cloud/stack.yaml", """
                    images:
                      docker-cloud:
                        dockerfile: Dockerfile
                        args: {REGISTRY: "\(registry.host)"}
                        test:
                          port: 80
                          command: [sh, -c, "curl -fsS http://$STACKSHIP_TEST_HOST:$STACKSHIP_TEST_PORT/ping"]
                    aws:
                      project: docker-cloud
                      registry:
                        github_repository: acme/docker-cloud
                      service:
                        port: 80
                        health_check_path: /ping
                    """)

                // Build, run on a published port, ask it, see it from elsewhere, test it.
                let build = try stackship(["build"], in: course)
                #expect(build.status == 0, "\(build.out)\n\(build.err.suffix(3000))")
                guard build.status == 0 else { return }
                let port = try Loopback.freePort()
                let started = try stackship(["run", "-dp", "\(port):80", "--name", "course", "docker-cloud"], in: course)
                #expect(started.status == 0, "\(started.err)")
                #expect(try getWhenUp(port: port, path: "/ping") == "pong\n")
                let ps = try stackship(["ps"], in: elsewhere)
                #expect(ps.status == 0 && ps.out.contains("course") && ps.out.contains("docker-cloud"), "\(ps.out)\n\(ps.err)")
                let published = try stackship(["port", "course"], in: elsewhere)
                #expect(published.out.hasPrefix("80/tcp -> ") && published.out.contains(":\(port)"), "\(published.out)\n\(published.err)")
                #expect(try stackship(["stop", "course"], in: elsewhere).status == 0)
                #expect(try stackship(["rm", "course"], in: elsewhere).status == 0)
                #expect(!FileManager.default.fileExists(atPath: elsewhere + "/.stackship"), "ps, port, stop and rm leave nothing in the folder they run in")
                let test = try stackship(["test", "docker-cloud"], in: course)
                #expect(test.status == 0, "\(test.out)\n\(test.err)")

                // The registry and the service, pinned to the image's digest.
                let store = try OCILayoutStore(root: course + "/.stackship/store", create: false)
                let image = try store.resolve("docker-cloud:latest")
                func pushToMoto() async throws {
                    try await withAWS(moto.endpoint) { client in
                        _ = try await ECRClient(client: client).putImage(
                            repository: "docker-cloud", manifest: String(decoding: try store.read(image.descriptor), as: UTF8.self),
                            mediaType: image.descriptor.mediaType, tag: "latest", digest: image.descriptor.digest.description)
                    }
                }
                func deployRegistryAndService() async throws {
                    let registryStack = try stackship(["aws", "deploy", "registry"], in: course)
                    #expect(registryStack.status == 0 && registryStack.out.contains("registry: CREATE_COMPLETE"), "\(registryStack.out)\n\(registryStack.err)")
                    try await pushToMoto()
                    let service = try stackship(["aws", "deploy", "service", "--image", "docker-cloud:latest"], in: course)
                    #expect(service.status == 0 && service.out.contains("service: CREATE_COMPLETE"), "\(service.out)\n\(service.err)")
                    #expect(service.err.contains("@\(image.descriptor.digest)"), "pinned to the built digest: \(service.err)")
                }
                try await deployRegistryAndService()
                let status = try stackship(["aws", "status"], in: course)
                #expect(status.status == 0, "\(status.out)\n\(status.err)")

                // Destroy everything, and deploy again: the retained repository goes with --purge.
                let destroy = try stackship(["aws", "destroy", "--all", "--purge", "--yes"], in: course)
                #expect(destroy.status == 0 && destroy.out.contains("deleted repository docker-cloud"), "\(destroy.out)\n\(destroy.err)")
                try await deployRegistryAndService()
                #expect(try stackship(["aws", "destroy", "--all", "--purge", "--yes"], in: course).status == 0)

                // public: true on a later run: the public template, which moto cannot create.
                let text = try String(contentsOfFile: course + "/stack.yaml", encoding: .utf8)
                try text.replacingOccurrences(of: "github_repository: acme/docker-cloud", with: "github_repository: acme/docker-cloud\n    public: true")
                    .write(toFile: course + "/stack.yaml", atomically: true, encoding: .utf8)
                let rendered = try stackship(["aws", "render", "registry", "-o", "cfn"], in: course)
                #expect(rendered.status == 0, "\(rendered.err)")
                let template = try String(contentsOfFile: course + "/cfn/registry.json", encoding: .utf8)
                #expect(template.contains("AWS::ECR::PublicRepository") && template.contains("ecr-public:PutImage"), "\(template.prefix(400))")
                let publicDeploy = try stackship(["aws", "deploy", "registry"], in: course)
                #expect(publicDeploy.status == 1 && publicDeploy.err.contains("moto_server has no ECR Public"), "\(publicDeploy.out)\n\(publicDeploy.err)")
            }
        }
    }
}
