import Dockerfile
import Testing

@Suite struct ParserErrorTests {
    @Test func anUnknownInstructionSuggestsTheClosestOne() throws {
        let error = parseError("FROM alpine\n  COPPY a /b\n")
        #expect(error == .unknownInstruction(name: "COPPY", suggestion: "COPY", at: DockerfileLocation(line: 2, column: 3)))
        #expect(error?.description == "2:3: unknown instruction 'COPPY'; did you mean 'COPY'?")
        #expect(error?.described(file: "Dockerfile") == "Dockerfile:2:3: unknown instruction 'COPPY'; did you mean 'COPY'?")
        // Far from every keyword: the list instead.
        let far = parseError("FROM alpine\nFROBNICATE x")
        #expect(far?.description.contains("use one of 'ADD', 'ARG'") == true)
    }

    @Test func anUnknownFlagNamesTheFlagsTheInstructionTakes() throws {
        let error = parseError("FROM alpine\nCOPY --form=build /a /b")
        #expect(error == .unknownFlag(instruction: "COPY", flag: "form", accepted: ["from", "chown", "chmod", "link", "parents", "exclude"],
                                      at: DockerfileLocation(line: 2, column: 6)))
        #expect(error?.message == "unknown flag '--form' on COPY; did you mean '--from'? (COPY takes '--from', '--chown', '--chmod', '--link', '--parents' and '--exclude')")
        let none = parseError("FROM alpine\nWORKDIR --x /a")
        #expect(none?.message == "unknown flag '--x' on WORKDIR; WORKDIR takes no flags")
        // CMD --help is read as a flag, as BuildKit reads it: the exec form is the way round.
        #expect(parseError("FROM alpine\nCMD --help")?.message.contains("CMD takes no flags") == true)
        #expect(try Dockerfile.parse("FROM alpine\nCMD [\"--help\"]").stages[0].instructions[0].kind == .cmd(.exec(["--help"])))
    }

    @Test func flagValuesAreChecked() {
        #expect(parseError("FROM alpine\nRUN --network=none --network=host x")
            == .duplicateFlag(instruction: "RUN", flag: "network", at: DockerfileLocation(line: 2, column: 20)))
        #expect(parseError("FROM alpine\nCOPY --chown a /b") == .flagNeedsValue(instruction: "COPY", flag: "chown", at: DockerfileLocation(line: 2, column: 6)))
        #expect(parseError("FROM alpine\nCOPY --link=maybe a /b")
            == .invalidFlagValue(instruction: "COPY", flag: "link", value: "maybe", expected: "true or false", at: DockerfileLocation(line: 2, column: 6)))
        #expect(parseError("FROM alpine\nRUN --network=bridge x")?.message == "'--network=bridge' on RUN is not valid; use default, none or host")
        #expect(parseError("FROM alpine\nRUN --security=root x")?.message.contains("sandbox or insecure") == true)
        // --mount may repeat.
        #expect(throws: Never.self) { try Dockerfile.parse("FROM alpine\nRUN --mount=type=cache,target=/a --mount=type=cache,target=/b x") }
    }

    @Test func jsonArraysMustHoldStrings() {
        #expect(parseError("FROM alpine\nCMD [\"a\", 1]") == .notStringArray(instruction: "CMD", at: DockerfileLocation(line: 2, column: 5)))
        #expect(parseError("FROM alpine\nVOLUME [[\"/a\"]]") == .notStringArray(instruction: "VOLUME", at: DockerfileLocation(line: 2, column: 8)))
        #expect(parseError("FROM alpine\nSHELL /bin/bash -c") == .jsonFormRequired(instruction: "SHELL", at: DockerfileLocation(line: 2, column: 7)))
        #expect(parseError("FROM alpine\nSHELL []")?.message == "SHELL requires at least one argument")
    }

    @Test func aContinuationWithNothingAfterItAtTheEndIsAnError() {
        #expect(parseError("FROM alpine\nRUN echo hi \\\n") == .continuationAtEndOfFile(at: DockerfileLocation(line: 2, column: 13)))
        #expect(parseError("FROM alpine\nRUN echo hi \\\n\n# trailing comment\n") == .continuationAtEndOfFile(at: DockerfileLocation(line: 2, column: 13)))
        // Docker's own example of the default escape on Windows paths: BuildKit does not
        // continue at `c:\\` (an escaped escape), so the file ends in a continuation.
        #expect(parseError("FROM microsoft/nanoserver\nCOPY testfile.txt c:\\\\\nRUN dir c:\\\n")
            == .continuationAtEndOfFile(at: DockerfileLocation(line: 3, column: 11)))
    }

    @Test func aContinuationAtTheEndIsAcceptedWhenAskedAsBuildKitDoes() throws {
        let dockerfile = try Dockerfile.parse("FROM alpine:3.5\n\nRUN something \\", acceptingContinuationAtEndOfFile: true)
        #expect(kinds(dockerfile) == [[.run(RunInstruction(command: .shell("something")))]])
        #expect(dockerfile.warnings.map(\.kind) == [.continuationAtEndOfFile])
        #expect(dockerfile.warnings.first?.location == DockerfileLocation(line: 3, column: 15))
    }

    @Test func hereDocumentMistakes() {
        #expect(parseError("FROM alpine\nRUN <<EOF\necho hi\n") == .unterminatedHeredoc(name: "EOF", at: DockerfileLocation(line: 2, column: 1)))
        #expect(parseError("FROM alpine\nCOPY a <<EOF\nx\nEOF\n")
            == .heredocNotAllowed(instruction: "COPY", role: "its destination", at: DockerfileLocation(line: 2, column: 8)))
    }

    @Test func namesMustNotBeEmpty() {
        #expect(parseError("FROM alpine\nARG =x") == .missingName(instruction: "ARG", at: DockerfileLocation(line: 2, column: 5)))
        #expect(parseError("FROM alpine\nENV =x") == .missingName(instruction: "ENV", at: DockerfileLocation(line: 2, column: 5)))
        #expect(parseError("FROM alpine\nARG") == .wrongArgumentCount(instruction: "ARG", expected: "at least one name", at: DockerfileLocation(line: 2, column: 1)))
        #expect(parseError("FROM alpine\nENV A=1 B") == .missingEquals(instruction: "ENV", word: "B", at: DockerfileLocation(line: 2, column: 9)))
        #expect(parseError("FROM alpine\nENV A") == .wrongArgumentCount(instruction: "ENV", expected: "a name and a value", at: DockerfileLocation(line: 2, column: 1)))
    }

    @Test func fromMustComeFirstAndBeWellFormed() {
        #expect(parseError("# nothing\n\n") == .emptyDockerfile)
        #expect(parseError("ARG A=1\nRUN echo") == .missingFrom(instruction: "RUN", at: DockerfileLocation(line: 2, column: 1)))
        #expect(parseError("ARG A=1\n") == .noStage(at: DockerfileLocation(line: 1, column: 1)))
        #expect(parseError("FROM alpine AS 1st") == .invalidStageName(name: "1st", at: DockerfileLocation(line: 1, column: 16)))
        #expect(parseError("FROM alpine build")?.message == "FROM requires an image, optionally followed by AS and a stage name")
        #expect(parseError("FROM")?.location == DockerfileLocation(line: 1, column: 1))
    }

    @Test func argumentCounts() {
        #expect(parseError("FROM alpine\nCOPY /a")?.message == "COPY requires a source and a destination")
        #expect(parseError("FROM alpine\nWORKDIR")?.message == "WORKDIR requires exactly one argument")
        #expect(parseError("FROM alpine\nEXPOSE")?.message == "EXPOSE requires at least one port")
        #expect(parseError("FROM alpine\nRUN")?.message.hasPrefix("RUN requires a command") == true)
        #expect(parseError("FROM alpine\nVOLUME [\"\"]") == .emptyVolume(at: DockerfileLocation(line: 2, column: 8)))
    }

    @Test func onbuildRefusesWhatDockerRefuses() {
        for trigger in ["ONBUILD", "FROM", "MAINTAINER"] {
            #expect(parseError("FROM alpine\nONBUILD \(trigger) x") == .invalidOnbuildTrigger(trigger: trigger, at: DockerfileLocation(line: 2, column: 9)))
        }
        #expect(parseError("FROM alpine\nonbuild onbuild run x")?.location == DockerfileLocation(line: 2, column: 9))
        #expect(parseError("FROM alpine\nONBUILD COPPY a b") == .unknownInstruction(name: "COPPY", suggestion: "COPY", at: DockerfileLocation(line: 2, column: 9)))
    }

    @Test func healthcheckDurationsAndRetries() {
        #expect(parseError("FROM alpine\nHEALTHCHECK --interval=5x CMD true")
            == .invalidDuration(flag: "interval", value: "5x", at: DockerfileLocation(line: 2, column: 13)))
        #expect(parseError("FROM alpine\nHEALTHCHECK --timeout=10us CMD true")?.message
            == "'--timeout=10us' is not a duration of at least 1ms; write it like 30s, 1m30s or 500ms")
        #expect(parseError("FROM alpine\nHEALTHCHECK --start-period=-1s CMD true") != nil)
        #expect(parseError("FROM alpine\nHEALTHCHECK --retries=-1 CMD true")?.message.contains("a number of at least 0") == true)
        #expect(parseError("FROM alpine\nHEALTHCHECK --retries=three CMD true")?.message.contains("a whole number") == true)
        #expect(parseError("FROM alpine\nHEALTHCHECK CMD")?.message == "HEALTHCHECK: no command after CMD; give the command to run")
        #expect(parseError("FROM alpine\nHEALTHCHECK RUN true")?.message.contains("unknown type 'RUN'") == true)
        #expect(parseError("FROM alpine\nHEALTHCHECK NONE now")?.message.contains("NONE takes no arguments") == true)
        // Zero means "the default", as in the image config.
        let zero = try? Dockerfile.parse("FROM alpine\nHEALTHCHECK --interval=0 --timeout=0s CMD true")
        #expect(zero?.stages[0].instructions[0].kind == .healthcheck(Healthcheck(test: .command(.shell("true")))))
    }

    @Test func directivesAreCheckedAndOnlyReadAtTheTop() throws {
        #expect(parseError("# escape=x\nFROM alpine")?.message == "parser directive 'escape': invalid escape character 'x'; use ` or \\")
        #expect(parseError("# syntax=a\n# SYNTAX=b\nFROM alpine")
            == .invalidDirective(name: "syntax", reason: "it may appear only once; remove the second one", at: DockerfileLocation(line: 2, column: 1)))
        let top = try Dockerfile.parse("#   Syntax = docker/dockerfile:1 \n# check=skip=JSONArgsRecommended\n# escape=`\nFROM alpine\n")
        #expect(top.directives == ParserDirectives(syntax: "docker/dockerfile:1", escape: "`", check: "skip=JSONArgsRecommended"))
        // After a comment, a blank line or an instruction, a directive is a comment.
        for text in ["# about\n# escape=`\nFROM alpine", "\n# escape=`\nFROM alpine", "FROM alpine\n# escape=`", "# unknown=x\n# escape=`\nFROM alpine"] {
            #expect(try Dockerfile.parse(text).directives.escape == "\\", "\(text)")
        }
    }

    @Test func mountsAreChecked() {
        #expect(parseError("FROM alpine\nRUN --mount=type=cahce,target=/a x")?.message
            == "invalid RUN --mount=type=cahce,target=/a: unknown mount type 'cahce'; did you mean 'cache'?")
        #expect(parseError("FROM alpine\nRUN --mount=type=cache,traget=/a x")?.message.contains("unknown key 'traget'; did you mean 'target'?") == true)
        #expect(parseError("FROM alpine\nRUN --mount=type=bind,size=1m x")?.message.contains("'size' applies only to tmpfs mounts") == true)
        #expect(parseError("FROM alpine\nRUN --mount=type=secret x")?.message.contains("needs id=, source= or target=") == true)
        #expect(parseError("FROM alpine\nRUN --mount=type=bind,mode=0644 x")?.message.contains("'mode' is not allowed for bind mounts") == true)
        #expect(parseError("FROM alpine\nRUN --mount=type=cache,sharing=everyone x")?.message.contains("use shared, private or locked") == true)
        #expect(parseError("FROM alpine\nRUN --mount=type=cache,target=a\\\"b x")?.message.contains("balance its quotes") == true)
        #expect(parseError("FROM alpine\nRUN --mount=type=bind,from=$STAGE,target=/a x")
            == .variableNotAllowed(flag: "--mount from", value: "$STAGE", at: DockerfileLocation(line: 2, column: 5)))
        #expect(parseError("FROM alpine\nCOPY --from=$STAGE /a /b")
            == .variableNotAllowed(flag: "COPY --from", value: "$STAGE", at: DockerfileLocation(line: 2, column: 6)))
    }

    @Test func warningsAreReportedWithoutFailing() throws {
        let dockerfile = try Dockerfile.parse("""
            FROM alpine AS a
            MAINTAINER me
            ENV A 1
            RUN echo \\

              hi
            ARG --x=1 B
            CMD ['a']
            FROM alpine AS a
            """)
        #expect(dockerfile.warnings.map(\.kind) == [.maintainerDeprecated, .legacyKeyValueFormat, .emptyContinuationLine, .ignoredFlags,
                                                    .malformedJSON, .duplicateStageName])
        #expect(dockerfile.warnings[2].location == DockerfileLocation(line: 5, column: 1))
        #expect(dockerfile.warnings[0].description == "2:1: warning: MAINTAINER is deprecated; write LABEL maintainer=\"...\" instead")
    }

    @Test func instructionsKnowTheirLinesAndColumns() throws {
        let dockerfile = try Dockerfile.parse("ARG V=1\n\nFROM alpine\n  RUN echo a \\\n  b\n\tCOPY <<EOF /x\nbody\nEOF\nUSER me\n")
        #expect(dockerfile.globalArgs[0].location == DockerfileLocation(line: 1, column: 1))
        #expect(dockerfile.stages[0].location == DockerfileLocation(line: 3, column: 1))
        let instructions = dockerfile.stages[0].instructions
        #expect(instructions.map(\.location) == [DockerfileLocation(line: 4, column: 3), DockerfileLocation(line: 6, column: 2),
                                                 DockerfileLocation(line: 9, column: 1)])
        #expect(instructions.map(\.endLine) == [5, 8, 9])
        #expect(instructions[0].original == "RUN echo a   b")
    }
}
