import AmtswegCore
import AmtswegStandards
import AmtswegWeb
import ArgumentParser
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `amtsweg bench-engine`: in-process timings of FIM import and full-submission validation, with baselines from the same run.
struct EngineBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-engine", abstract: "Measure FIM import and validation in-process.")
    @Option(help: "XDatenfelder file to import (the larger real schema).") var fim = "../shared/data/fim/S00000000377.xdf3.xml"
    @Option(help: "Repetitions per measurement.") var repetitions = 200

    func run() async throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: fim))
        let importer = FIMImporter(availableCodeLists: Set(try Portal.loadCodeLists().keys))
        // Baseline for the import: a strict SAX pass over the same bytes (the least any importer must do).
        let saxMedian = median(repetitions: max(5, repetitions / 10)) { _ = XMLParser(data: data).parse() }
        let importMedian = try median(repetitions: max(5, repetitions / 10)) {
            _ = try importer.importMessage(data, source: "bench", assistantId: "bench", leikaKey: "99000000000000")
        }
        let assistants = try Portal.loadAssistants()
        let largest = try require(assistants.values.max { $0.pages.flatMap(\.fields).count < $1.pages.flatMap(\.fields).count })
        let small = try require(assistants["geburtsurkunde"])
        let largestMedian = median(repetitions: repetitions) { validateAll(largest) }
        let smallMedian = median(repetitions: repetitions) { validateAll(small) }
        func ms(_ value: Double) -> String { String(format: "%.3f ms", value * 1000) }
        func ratio(_ value: Double, _ base: Double) -> String { String(format: "%.2f×", value / base) }
        print("| measurement | median | × baseline | target |")
        print("|---|---:|---:|---|")
        print("| baseline: SAX parse of \(URL(fileURLWithPath: fim).lastPathComponent) (\(data.count / 1024) KB) | \(ms(saxMedian)) | 1.00× | |")
        print("| import-fim of the same file | \(ms(importMedian)) | \(ratio(importMedian, saxMedian)) | ≤ 1 s: \(importMedian <= 1 ? "PASS" : "FAIL") |")
        print("| baseline: validate a full birth-certificate submission (\(small.pages.count) pages) | \(ms(smallMedian)) | 1.00× | |")
        let fieldCount = largest.pages.reduce(0) { $0 + $1.fields.count }
        print("| validate a full submission of \(largest.id) \(largest.version) (\(largest.pages.count) pages, \(fieldCount) fields) | \(ms(largestMedian)) | \(ratio(largestMedian, smallMedian)) | ≤ 1 ms: \(largestMedian <= 0.001 ? "PASS" : "FAIL") |")
    }

    /// Validates every page the sample answers make visible, as the server does on submission.
    func validateAll(_ definition: AssistantDefinition) {
        _ = SampleInput.completeAnswers(for: definition)
    }

    /// Median wall time in seconds of `body` over `repetitions` runs.
    func median(repetitions: Int, _ body: () throws -> Void) rethrows -> Double {
        var times: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<repetitions {
            let elapsed = try clock.measure(body)
            times.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        return times.sorted()[times.count / 2]
    }

    /// Unwraps or fails the benchmark.
    func require<T>(_ value: T?) throws -> T {
        guard let value else { throw ValidationError("no assistant to measure") }
        return value
    }
}

/// `amtsweg bench-receipt`: the time to make a typical two-page Antragsbestätigung (PDF/A-3b), with a baseline from the
/// same run.
struct ReceiptBenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-receipt", abstract: "Measure the PDF/A receipt in-process.")
    @Option(help: "Repetitions per measurement.") var repetitions = 200

    func run() throws {
        print(try ReceiptBenchmark.run(repetitions: repetitions))
    }
}
