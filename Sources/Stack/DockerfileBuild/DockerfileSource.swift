import Dockerfile

/// A COPY or ADD source as the Dockerfile reader gives it (a path, URL or here-document); named
/// here because Support also has a `FileSource` (a file read as bytes).
typealias DockerfileSource = FileSource
