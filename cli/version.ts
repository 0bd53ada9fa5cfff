// swamp's version, apart from the help text so that anything may import it.
export const version = "0.1.0";
