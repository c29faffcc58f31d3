// The configuration that validation selected for a split (docs/quality.md), which the quality bench runs
// when it is given no configuration flag. Keyed on the dataset's content hash, so only that exact split
// gets it, whatever its folder is called.
import fs from 'node:fs'
import path from 'node:path'
import type { RecDataset } from '../data/types'
import type { ConfigOverrides, PresetName } from '../engine/cllm4rec/config'

export interface SelectedConfig {
  /** What the run is, for its log. */
  label: string
  preset: PresetName
  overrides: ConfigOverrides
  /** `--backbone-texts` for the run, or undefined for none. */
  backboneTexts: string | undefined
}

interface Selection {
  label: string
  preset: PresetName
  overrides: ConfigOverrides
  /** A sibling folder of the dataset's whose texts train the scratch backbone too. */
  siblingTexts: string | null
}

const SELECTED: Record<string, Selection> = {
  // The authors' Beauty split (10,553 users × 6,086 items).
  e65880cc44d807054b17ab75e6cf57979b302688466df41544d7251cee480f52: {
    label:
      "the authors' Beauty split: the fast preset with 72 RecLLM epochs, the backbone also trained on the Sports split's item tags",
    preset: 'fast',
    // With the Sports texts, 72 epochs (the cosine over 72) against 144: validation R@20 0.1601 / 0.1658 /
    // 0.1630 against 0.1586 / 0.1656 / 0.1613 at seeds 1 to 3, in half the time (docs/quality.md).
    overrides: { finetuneEpochs: 72 },
    siblingTexts: 'sports',
  },
}

/** The selected configuration for `data` (read from folder `spec`), or null when none was selected. */
export function selectedConfigFor(data: RecDataset, spec: string): SelectedConfig | null {
  const s = SELECTED[data.hash]
  if (!s) return null
  let backboneTexts: string | undefined
  if (s.siblingTexts) {
    backboneTexts = path.join(path.dirname(path.resolve(spec)), s.siblingTexts)
    if (!fs.existsSync(backboneTexts))
      throw new Error(
        `the configuration selected for ${data.name} trains the backbone on ${backboneTexts} too, which is missing; give --preset to run another`,
      )
  }
  return { label: s.label, preset: s.preset, overrides: structuredClone(s.overrides), backboneTexts }
}

/** The flags that say which configuration a run has; any of them replaces the selected one. */
export interface ConfigFlags {
  dataset?: unknown
  preset?: unknown
  'epochs-scale'?: unknown
  config?: unknown
  'backbone-texts'?: unknown
}
const CONFIG_FLAGS = ['preset', 'epochs-scale', 'config', 'backbone-texts'] as const

/**
 * A bench run's preset, overrides and backbone texts: the flags', or, when none of them is given, the
 * configuration selected for this split (`selected` is then its label); the paper preset where none was.
 */
export function benchConfig(
  f: ConfigFlags,
  data: RecDataset,
): Omit<SelectedConfig, 'label'> & { selected: string | null } {
  const given = CONFIG_FLAGS.some((k) => f[k] !== undefined)
  const sel = given ? null : selectedConfigFor(data, String(f.dataset))
  if (sel) return { ...sel, selected: sel.label }
  const overrides: ConfigOverrides = f.config ? JSON.parse(fs.readFileSync(String(f.config), 'utf8')) : {}
  const preset = (f.preset ?? 'paper') as PresetName
  const backboneTexts = f['backbone-texts'] === undefined ? undefined : String(f['backbone-texts'])
  return { preset, overrides, backboneTexts, selected: null }
}
