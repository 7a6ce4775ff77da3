import Foundation
import OCI

/// When a build fetches a base image from its registry, as `docker build --pull` and `run
/// --pull` take it.
public enum PullPolicy: String, Sendable, CaseIterable {
    /// When the store lacks it (the default, as `docker build` does).
    case missing
    /// Every build, so a moving tag is followed.
    case always
    /// Never: a base the store lacks is an error.
    case never
}

/// Fetches `reference` (for `platform`) from its registry into the store, tagged as
/// `reference`. The CLI gives one that copies through `ImageCopier` with the user's
/// credentials; Stack itself has no registry client.
public typealias BaseImageFetcher = @Sendable (_ reference: ImageReference, _ platform: Platform) async throws -> Void

/// Brings the bases a stack's images and builder start from into the store before a build.
public enum BaseImages {
    /// A base the stack names from a registry: its reference, the platform wanted, and who names it.
    public struct Needed: Sendable, Hashable {
        public var reference: ImageReference
        public var platform: Platform
        public var usedBy: String
    }

    /// The `base:` and `bases:` references of `images` (and the stack's builder and runtime
    /// bases) that name no image the stack builds itself, once each.
    public static func needed(by images: [ImageSpec], in stack: StackFile) -> [Needed] {
        var builtHere = Set<String>()
        for image in stack.images {
            for tag in image.tags { builtHere.insert(tag.description) }
        }
        var out: [Needed] = []
        var seen = Set<String>()
        func add(_ base: BaseSpec?, platform: Platform, usedBy: String) {
            guard case .store(let text)? = base, let reference = try? ImageReference(parsing: text), reference.digest != nil || reference.tag != nil,
                  !builtHere.contains(reference.description), seen.insert(reference.description + " " + platform.description).inserted else { return }
            out.append(Needed(reference: reference, platform: platform, usedBy: usedBy))
        }
        for image in images { add(image.base, platform: image.platform, usedBy: "image '\(image.name)'") }
        if !stack.packages.isEmpty {
            add(stack.bases.builder, platform: .host, usedBy: "`bases: builder:`")
            if images.contains(where: { !$0.packages.isEmpty && $0.base == .scratch }) {
                add(stack.bases.runtime, platform: .host, usedBy: "`bases: runtime:`")
            }
        }
        return out
    }

    /// Makes `reference` present in `store` by `policy` (see ``prepare(_:in:store:policy:fetch:)``);
    /// `usedBy` names what needs it in errors. Returns whether it was fetched.
    @discardableResult
    public static func ensure(_ reference: ImageReference, platform: Platform, usedBy: String, store: OCILayoutStore,
                              policy: PullPolicy, fetch: BaseImageFetcher) async throws -> Bool {
        let present = (try? store.resolve(reference.description)) != nil
        switch (policy, present) {
        case (.never, false):
            throw StackBuildError.baseNotPulled(usedBy: usedBy, base: reference.familiar, store: store.root)
        case (.never, true), (.missing, true):
            return false
        case (.missing, false), (.always, _):
            do {
                try await fetch(reference, platform)
            } catch {
                throw StackBuildError.basePullFailed(usedBy: usedBy, base: reference.familiar, reason: "\(error)")
            }
            return true
        }
    }

    /// Makes every base `images` need present in `store`, by `policy`: fetched when missing
    /// (`.missing`), every time (`.always`), or never (`.never`: a missing one is an error
    /// naming it and the fix). Returns the references fetched.
    @discardableResult
    public static func prepare(_ images: [ImageSpec], in stack: StackFile, store: OCILayoutStore, policy: PullPolicy,
                               fetch: BaseImageFetcher) async throws -> [ImageReference] {
        var fetched: [ImageReference] = []
        for needed in needed(by: images, in: stack) {
            if try await ensure(needed.reference, platform: needed.platform, usedBy: needed.usedBy, store: store, policy: policy, fetch: fetch) {
                fetched.append(needed.reference)
            }
        }
        return fetched
    }
}
