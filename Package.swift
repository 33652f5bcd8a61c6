// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Zoo",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Formats", targets: ["Formats"]),
        .library(name: "Tokenizers", targets: ["Tokenizers"]),
        .library(name: "Zoo", targets: ["Zoo"]),
        .executable(name: "zoo", targets: ["ZooCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CVulkan", pkgConfig: "vulkan",
                       providers: [.apt(["libvulkan-dev"])]),
        .systemLibrary(name: "CShaderc", providers: [.apt(["libshaderc-dev"])]),
        .systemLibrary(name: "CZip", pkgConfig: "libzip",
                       providers: [.apt(["libzip-dev"])]),
        // Hot float kernels in C: compiled with -O3 and run-time dispatch to AVX2/FMA/F16C
        // (target_clones), which Swift cannot do without a package-wide -target-cpu.
        .target(name: "CKernels",
                cSettings: [.unsafeFlags(["-O3", "-ffp-contract=fast", "-fno-math-errno"])]),
        // The engine guards its shared state with locks; the run-time exclusivity checks on its
        // class and static properties cost ~4 % of the per-node evaluation time (eval_chain).
        .target(name: "Engine", dependencies: ["CBLAS", "CVulkan", "CShaderc", "CKernels"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .target(name: "Formats", dependencies: ["Engine", "CZip"]),
        // C ABI over libsentencepiece (C++), so C++ interop stays out of every Swift target.
        .target(name: "CSentencePiece", linkerSettings: [.linkedLibrary("sentencepiece")]),
        .target(name: "Tokenizers", dependencies: ["CSentencePiece"]),
        .target(name: "Zoo", dependencies: ["Engine", "Formats", "Tokenizers", "CZip",
                                      .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(name: "ZooCLI", dependencies: [
            "Zoo", "Engine", "Formats", "Tokenizers",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "ZooBench", dependencies: ["Engine", "Formats"], path: "bench/ZooBench"),
        .executableTarget(name: "TokenizersBench", dependencies: ["Tokenizers"], path: "bench/TokenizersBench"),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "FormatsTests", dependencies: ["Formats", "Engine"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"]),
        .testTarget(name: "ZooTests", dependencies: ["Zoo", "Engine", "Formats", "Tokenizers",
                                                    .product(name: "Crypto", package: "swift-crypto")]),
    ]
)
