/** Registers the WASM index types with the factory (filled in by the WASM backend). */
export {};
