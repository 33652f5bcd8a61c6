import XCTest
@testable import Engine

/// fixtures/engine/ops_sort.json (MLX 0.32.4 through tools/gen_ops_fixtures.py): sort,
/// argsort, partition, argpartition, topk and the scans.
final class SortScanFixtureTests: XCTestCase {
    static func run(_ c: FixtureCase) -> [Tensor]? {
        let x = c.inputs.map(OpFixtureTests.tensor)
        let axis: Int? = c.isNull("axis") ? nil : c.int("axis")
        let rev = c.bool("reverse") ?? false, inc = c.bool("inclusive") ?? true
        switch c.op {
        case "sort": return [sort(x[0], axis: axis)]
        case "argsort": return [argSort(x[0], axis: axis)]
        case "partition": return [partition(x[0], kth: c.int("kth")!, axis: axis)]
        case "argpartition": return [argPartition(x[0], kth: c.int("kth")!, axis: axis)]
        case "topk": return [topK(x[0], k: c.int("k")!, axis: axis)]
        case "cumsum": return [cumsum(x[0], axis: axis, reverse: rev, inclusive: inc)]
        case "cumprod": return [cumprod(x[0], axis: axis, reverse: rev, inclusive: inc)]
        case "cummax": return [cummax(x[0], axis: axis, reverse: rev, inclusive: inc)]
        case "cummin": return [cummin(x[0], axis: axis, reverse: rev, inclusive: inc)]
        case "logcumsumexp": return [logCumSumExp(x[0], axis: axis, reverse: rev, inclusive: inc)]
        default: return nil
        }
    }

    /// Values of a (partition-like) result moved to the last axis, as rows.
    static func rows(_ t: Tensor, axis: Int) -> [[Double]] {
        let m = t.movedAxis(source: axis, destination: -1)
        let n = m.shape.last!
        let v = m.toArray(Double.self)
        return stride(from: 0, to: v.count, by: max(n, 1)).map { Array(v[$0..<($0 + n)]) }
    }

    func testSortAndScans() {
        guard let f = loadFixtures("ops_sort.json") else { return }
        var passed = 0
        for c in f.cases {
            var results: [Tensor]?
            do { results = try withError { Self.run(c) } } catch { XCTFail("\(c.name): Zoo raised \(error)"); continue }
            guard let r = results?.first else { XCTFail("\(c.name): op \(c.op) is not mapped"); continue }
            let e = c.expected!
            let before = testRun?.failureCount ?? 0
            switch c.string("compare") {
            case "partition":
                // The element at kth, and the multisets before and after it, must agree.
                let x = OpFixtureTests.tensor(c.inputs[0])
                let axis = c.int("axis")!, ax = axis < 0 ? axis + x.ndim : axis
                let n = x.shape[ax], kth = (c.int("kth")! + n) % n
                var got = r, want = OpFixtureTests.tensor(e)
                if c.op == "argpartition" {
                    XCTAssertEqual(r.dtype, .uint32, c.name)
                    got = takeAlong(x, r, axis: ax); want = takeAlong(x, want, axis: ax)
                }
                XCTAssertEqual(got.shape, want.shape, c.name)
                for (g, w) in zip(Self.rows(got, axis: ax), Self.rows(want, axis: ax)) {
                    XCTAssertEqual(g[kth], w[kth], c.name)
                    XCTAssertEqual(g[..<kth].sorted(), w[..<kth].sorted(), c.name)
                    XCTAssertEqual(g[(kth + 1)...].sorted(), w[(kth + 1)...].sorted(), c.name)
                }
            case "topk":
                let axis = c.int("axis")!, ax = axis < 0 ? axis + r.ndim : axis
                XCTAssertEqual(r.dtype.description, e.dtype, c.name)
                XCTAssertEqual(r.shape, e.shape, c.name)
                for (g, w) in zip(Self.rows(r, axis: ax), Self.rows(OpFixtureTests.tensor(e), axis: ax)) {
                    XCTAssertEqual(g.sorted(), w.sorted(), c.name)
                }
            default:
                assertFixtureMatches(OpFixtureTests.actual(r), e, case: c)
            }
            if (testRun?.failureCount ?? 0) == before { passed += 1 }
        }
        XCTAssertGreaterThan(f.cases.count, 0)
        print("ops_sort.json: \(passed) passed of \(f.cases.count) cases")
    }

    func testErrors() {
        func expectError(_ op: String, _ mentions: [String], _ body: () -> Void, line: UInt = #line) {
            do { try withError { body() }; XCTFail("expected an error from \(op)", line: line) } catch let e as EngineError {
                XCTAssertEqual(e.op, op, line: line)
                for m in mentions { XCTAssertTrue(e.localizedDescription.contains(m), "'\(e.localizedDescription)' lacks \(m)", line: line) }
            } catch { XCTFail("\(error)", line: line) }
        }
        let x = zeros([3, 4])
        expectError("sort", ["axis 2"]) { _ = sort(x, axis: 2) }
        expectError("argsort", ["axis -3"]) { _ = argSort(x, axis: -3) }
        expectError("partition", ["kth 4", "(3,4)"]) { _ = partition(x, kth: 4) }
        expectError("argpartition", ["kth -5", "(3,4)"]) { _ = argPartition(x, kth: -5) }
        expectError("topk", ["k 5", "(3,4)"]) { _ = topK(x, k: 5) }
        expectError("topk", ["k 0"]) { _ = topK(x, k: 0, axis: 0) }
        expectError("cumsum", ["axis 3"]) { _ = cumsum(x, axis: 3) }
        expectError("logcumsumexp", ["complex64"]) { _ = logCumSumExp(zeros([3], dtype: .complex64), axis: 0) }
        expectError("sort", ["scalar"]) { _ = sort(Tensor(1.0), axis: -1) }
    }
}
