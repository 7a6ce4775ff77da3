import Foundation
import OCI

extension StackFile {
    /// The image of this stack that `image` is built on, if any: its `base:`, or for an image
    /// with packages on `scratch`, `bases: runtime:`, when that names one of the stack's own
    /// images by one of its tags.
    public func baseImage(of image: ImageSpec) -> ImageSpec? {
        var base = image.base
        if base == .scratch && !image.packages.isEmpty { base = bases.runtime }
        guard case let .store(text) = base, let reference = try? ImageReference(parsing: text) else { return nil }
        return images.first { $0.name != image.name && $0.tags.contains(reference) }
    }

    /// `selected` with the stack images each is built on (transitively) added, every image after
    /// its base: what one build needs, in the order it must build them. Jobs that do not share a
    /// store (CI) build a base again, reproducibly, before the image on it.
    ///
    /// - Throws: ``StackFileError`` when images are each other's base.
    public func withBaseImagesFirst(_ selected: [ImageSpec]) throws -> [ImageSpec] {
        var ordered: [ImageSpec] = []
        var done = Set<String>()
        func visit(_ image: ImageSpec, _ path: [String]) throws {
            if done.contains(image.name) { return }
            if path.contains(image.name) {
                throw StackFileError(location: image.location, message: "images are built on each other in a cycle: \((path + [image.name]).joined(separator: " → "))",
                                     hint: "give one of them a base outside the stack (or scratch)")
            }
            if let base = baseImage(of: image) { try visit(base, path + [image.name]) }
            done.insert(image.name)
            ordered.append(image)
        }
        for image in selected { try visit(image, []) }
        return ordered
    }
}
