// Mult-VAE's schedule lengths, apart from the model so the API layer can resolve them without tfjs.

/**
 * Default epochs (the CLI, the quality bench and the app's baselines): Liang et al.'s 200. On Beauty, 30
 * epochs stopped well short (validation R@20 0.1605 at 30, 0.1719 at 100 and still rising).
 */
export const MULT_VAE_EPOCHS = 200

/** The most Mult-VAE epochs a breakdown may ask for. */
export const MAX_MULT_VAE_EPOCHS = 2000
