// Independent float64 GPT-2 reference for tests: its own safetensors (F32) reader and a plain-JS
// forward pass, sharing no code with main/engine/gpt2 so the comparison means something.
import fs from 'node:fs'

export type RefWeights = Map<string, { shape: number[]; data: Float64Array }>

export function readF32Safetensors(file: string): RefWeights {
  const buf = fs.readFileSync(file)
  const n = Number(buf.readBigUInt64LE(0))
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'))
  const out: RefWeights = new Map()
  for (const [name, info] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue
    const [b, e] = info.data_offsets
    const data = new Float64Array((e - b) / 4)
    for (let i = 0; i < data.length; i++) data[i] = buf.readFloatLE(8 + n + b + i * 4)
    out.set(name.replace(/^transformer\./, ''), { shape: info.shape, data })
  }
  return out
}

interface RefCfg {
  nLayer: number
  nHead: number
  eps: number
}

/** Logits [T][V] in float64 for one sequence. */
export function referenceLogits(w: RefWeights, cfg: RefCfg, ids: number[]): number[][] {
  const get = (n: string) => {
    const t = w.get(n)
    if (!t) throw new Error(`reference: missing ${n}`)
    return t
  }
  const wte = get('wte.weight')
  const [V, C] = wte.shape
  const wpe = get('wpe.weight').data
  const T = ids.length
  const D = C / cfg.nHead
  const row = (d: Float64Array, r: number, width: number) =>
    Array.from(d.subarray(r * width, (r + 1) * width))
  const ln = (x: number[], g: Float64Array, b: Float64Array) => {
    const mean = x.reduce((s, v) => s + v, 0) / x.length
    const vr = x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length
    return x.map((v, i) => ((v - mean) / Math.sqrt(vr + cfg.eps)) * g[i] + b[i])
  }
  const lin = (x: number[], W: { shape: number[]; data: Float64Array }, bias: Float64Array) => {
    const [nin, nout] = W.shape
    const y = Array.from(bias)
    for (let i = 0; i < nin; i++) for (let j = 0; j < nout; j++) y[j] += x[i] * W.data[i * nout + j]
    return y
  }
  const gelu = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))
  let h = ids.map((id, t) => row(wte.data, id, C).map((v, i) => v + wpe[t * C + i]))
  for (let l = 0; l < cfg.nLayer; l++) {
    const p = `h.${l}.`
    const qkv = h.map((x) =>
      lin(
        ln(x, get(p + 'ln_1.weight').data, get(p + 'ln_1.bias').data),
        get(p + 'attn.c_attn.weight'),
        get(p + 'attn.c_attn.bias').data,
      ),
    )
    const y = h.map(() => new Array<number>(C).fill(0))
    for (let hd = 0; hd < cfg.nHead; hd++) {
      for (let t = 0; t < T; t++) {
        const scores: number[] = []
        for (let s = 0; s <= t; s++) {
          let dot = 0
          for (let d = 0; d < D; d++) dot += qkv[t][hd * D + d] * qkv[s][C + hd * D + d]
          scores.push(dot / Math.sqrt(D))
        }
        const mx = Math.max(...scores)
        const ex = scores.map((s) => Math.exp(s - mx))
        const z = ex.reduce((a, b) => a + b, 0)
        for (let s = 0; s <= t; s++)
          for (let d = 0; d < D; d++) y[t][hd * D + d] += (ex[s] / z) * qkv[s][2 * C + hd * D + d]
      }
    }
    h = h.map((x, t) => {
      const a = lin(y[t], get(p + 'attn.c_proj.weight'), get(p + 'attn.c_proj.bias').data)
      const r = x.map((v, i) => v + a[i])
      const f = lin(
        ln(r, get(p + 'ln_2.weight').data, get(p + 'ln_2.bias').data),
        get(p + 'mlp.c_fc.weight'),
        get(p + 'mlp.c_fc.bias').data,
      ).map(gelu)
      const m = lin(f, get(p + 'mlp.c_proj.weight'), get(p + 'mlp.c_proj.bias').data)
      return r.map((v, i) => v + m[i])
    })
  }
  return h.map((x) => {
    const f = ln(x, get('ln_f.weight').data, get('ln_f.bias').data)
    const out = new Array<number>(V)
    for (let v = 0; v < V; v++) {
      let s = 0
      for (let i = 0; i < C; i++) s += f[i] * wte.data[v * C + i]
      out[v] = s
    }
    return out
  })
}
