/// The version of stackship this code is: `stackship --version` prints it, and generated CI
/// pipelines pin the stackship they install to it.
public enum StackshipVersion {
    /// The version string.
    public static let current = "0.1.0"
}
