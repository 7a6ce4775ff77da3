/// Reads a whole Dockerfile: logical lines from the ``LineScanner``, each made an instruction by
/// the ``InstructionParser``, then grouped into stages (ARGs before the first FROM are global).
struct DockerfileParser {
    private var scanner: LineScanner

    init(text: String, acceptingContinuationAtEndOfFile: Bool = false) {
        scanner = LineScanner(text: text, acceptingContinuationAtEndOfFile: acceptingContinuationAtEndOfFile)
    }

    mutating func parse() throws(DockerfileError) -> Dockerfile {
        var globalArgs: [Instruction] = []
        var stages: [BuildStage] = []
        var warnings: [DockerfileWarning] = []
        var sawInstruction = false
        while let line = try scanner.nextLogicalLine() {
            sawInstruction = true
            var parser = InstructionParser(escape: scanner.directives.escape)
            let parsed = try parser.parse(line) { (marker: HeredocWord.Marker) throws(DockerfileError) -> String in
                guard let body = scanner.readHeredoc(name: marker.name, stripsTabs: marker.stripsTabs) else {
                    throw .unterminatedHeredoc(name: marker.name, at: line.positions.first ?? DockerfileLocation(line: line.startLine, column: 1))
                }
                return body
            }
            warnings += parser.warnings
            switch parsed {
            case var .from(stage):
                if let name = stage.name, stages.contains(where: { $0.name == name }) {
                    warnings.append(DockerfileWarning(kind: .duplicateStageName, location: stage.location,
                                                      message: "stage name '\(name)' is used twice; later references find this one, so rename one"))
                }
                stage.instructions = []
                stages.append(stage)
            case var .instruction(instruction):
                instruction.endLine = max(instruction.endLine, scanner.lineNumber)
                if stages.isEmpty {
                    guard case .arg = instruction.kind else {
                        throw .missingFrom(instruction: instruction.keyword.rawValue, at: instruction.location)
                    }
                    globalArgs.append(instruction)
                } else {
                    stages[stages.count - 1].instructions.append(instruction)
                }
            }
        }
        guard sawInstruction else { throw .emptyDockerfile }
        guard !stages.isEmpty else {
            throw .noStage(at: globalArgs.last?.location ?? DockerfileLocation(line: 1, column: 1))
        }
        return Dockerfile(directives: scanner.directives, globalArgs: globalArgs, stages: stages,
                          warnings: (scanner.warnings + warnings).sorted { $0.location < $1.location })
    }
}
