/// Which images of an index a copy takes.
public enum PlatformSelection: Sendable, Hashable {
    /// The one image for this platform (the copy's root becomes that image's manifest).
    case one(Platform)
    /// The index with every image it lists.
    case all

    /// The child of `index` for `platform`: the first whose platform matches (variant ignored
    /// when the wanted platform has none), else the only child when it names no platform (an
    /// index written without platform fields). A lone child of another platform is not taken:
    /// running the wrong architecture fails far from the cause. `name` names the index in the
    /// error, which lists what is available.
    public static func child(of index: Index, for platform: Platform, name: String) throws -> Descriptor {
        let images = index.manifests.filter { MediaType.isManifest($0.mediaType) || MediaType.isIndex($0.mediaType) }
        if let hit = images.first(where: { $0.platform?.matches(platform) ?? false }) { return hit }
        if images.count == 1, images[0].platform == nil { return images[0] }
        throw OCIError.noMatchingPlatform(image: name, wanted: platform.description,
                                          available: images.compactMap { $0.platform?.description })
    }
}
