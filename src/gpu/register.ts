/** Registers the GPU index types with the factory (filled in by the GPU backend). */
export {};
