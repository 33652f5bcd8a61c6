import XCTest
@testable import Engine

/// The lazy graph: nothing runs before `eval`; intermediates are released after it;
/// concurrent evaluation from many tasks; memory stays flat.
final class GraphTests: XCTestCase {
    func testOpsAreLazyUntilEvaluated() {
        let a = Tensor([1, 2, 3] as [Float])
        let b = exp(a) + a * 2
        XCTAssertFalse(b.isEvaluated)
        XCTAssertFalse(b.node.inputs.isEmpty)
        eval(b)
        XCTAssertTrue(b.isEvaluated)
        // Evaluated nodes drop their graph so intermediates can be freed.
        XCTAssertTrue(b.node.inputs.isEmpty)
        XCTAssertNil(b.node.primitive)
    }

    func testIntermediatesAreReleased() {
        Memory.clearCache()
        let before = Memory.activeBytes
        do {
            let x = zeros([1 << 20])          // 4 MiB
            var y = x
            for _ in 0..<10 { y = y + 1 }      // ten 4 MiB intermediates
            eval(y)
            // Only the result (and the input, still referenced) stay alive.
            XCTAssertLessThanOrEqual(Memory.activeBytes - before, 2 * (4 << 20) + 4096)
        }
        XCTAssertLessThanOrEqual(Memory.activeBytes - before, 4096)
    }

    func testDeepChainsEvaluateAndReleaseWithoutRecursion() {
        let one = Tensor([1] as [Float])
        var c = Tensor([0] as [Float])
        for _ in 0..<200_000 { c = c + one }
        XCTAssertEqual(c.item(Float.self), 200_000)
        var d = Tensor([0] as [Float])
        for _ in 0..<200_000 { d = d + one }
        d = Tensor([0] as [Float])  // drops an unevaluated 200k-deep graph
        XCTAssertEqual(d.item(Float.self), 0)
    }

    func testMemoryStaysFlatWhenEvaluatingAndDropping64MB() {
        let n = 16 << 20  // 16M float32 = 64 MiB
        let base = ones([n])
        eval(base)
        let start = Memory.activeBytes
        var peakGrowth = 0
        for i in 0..<200 {
            let t = base * Float(i)
            eval(t)
            peakGrowth = max(peakGrowth, Memory.activeBytes - start)
        }
        XCTAssertLessThanOrEqual(Memory.activeBytes - start, 0)
        XCTAssertLessThanOrEqual(peakGrowth, 64 << 20)
        Memory.clearCache()
        XCTAssertEqual(Memory.cacheBytes, 0)
    }

    func testAsyncEvalThenRead() {
        let a = Random.uniform([1000], key: Random.key(3))
        let b = softmax(a * 3)
        asyncEval(b)
        let s = sum(b).item(Float.self)
        XCTAssertEqual(s, 1, accuracy: 1e-5)
    }

    func testSharedSubgraphEvaluatedOnce() {
        let a = Random.normal([64, 64], key: Random.key(1))
        let shared = matmul(a, a)
        let x = shared + 1, y = shared * 2
        eval(x)
        XCTAssertTrue(shared.isEvaluated)
        eval(y)
        let xv = x.toArray(Float.self), yv = y.toArray(Float.self), sv = shared.toArray(Float.self)
        for i in 0..<sv.count {
            XCTAssertEqual(xv[i], sv[i] + 1)
            XCTAssertEqual(yv[i], sv[i] * 2)
        }
    }

    func testDefaultDeviceIsTaskLocal() async {
        XCTAssertEqual(Device.defaultDevice, .cpu)
        await withDevice(.gpu) {
            XCTAssertEqual(Device.defaultDevice, .gpu)
            // Ops still run (on the CPU when no GPU exists).
            let t = Tensor([1, 2] as [Float]) + 1
            XCTAssertEqual(t.toArray(Float.self), [2, 3])
        }
        XCTAssertEqual(Device.defaultDevice, .cpu)
        XCTAssertTrue(Device.cpu.isAvailable)
        _ = Device.gpu.isAvailable  // must not crash without Vulkan
    }
}

final class ConcurrencyTests: XCTestCase {
    /// Eight tasks build and evaluate graphs at once, some sharing an input graph.
    func testGraphsFromEightTasks() async {
        let shared = Random.normal([128, 128], key: Random.key(7))
        let common = matmul(shared, shared.T)   // unevaluated, shared by all tasks
        func work(_ i: Int) -> [Float] {
            let x = Random.uniform([128, 128], key: Random.key(UInt64(100 + i)))
            let y = softmax(matmul(x, common) / 16, axis: -1) + Float(i)
            return sum(y, axes: [1]).toArray(Float.self) + [max(common).item(Float.self)]
        }
        // Sequential reference from the same engine.
        let expected = (0..<8).map { i -> [Float] in
            let x = Random.uniform([128, 128], key: Random.key(UInt64(100 + i)))
            let c = matmul(shared, shared.T)
            let y = softmax(matmul(x, c) / 16, axis: -1) + Float(i)
            return sum(y, axes: [1]).toArray(Float.self) + [max(c).item(Float.self)]
        }
        let results = await withTaskGroup(of: (Int, [Float]).self) { group in
            for i in 0..<8 { group.addTask { (i, work(i)) } }
            var out = [[Float]](repeating: [], count: 8)
            for await (i, r) in group { out[i] = r }
            return out
        }
        for i in 0..<8 {
            XCTAssertEqual(results[i].count, expected[i].count)
            for (a, b) in zip(results[i], expected[i]) { XCTAssertEqual(a, b, accuracy: 1e-4 * max(1, abs(b))) }
        }
    }
}
