import { describe, expect, it } from 'vitest'
import { parsePythonLiteral } from '../../../main/data/formats/py-literal'

describe('parsePythonLiteral', () => {
  it('parses dicts, lists, tuples, strings with escapes, numbers and constants', () => {
    expect(
      parsePythonLiteral(
        `{'a': [1, -2.5, 1e3, (True, False, None)], "b": 'it\\'s \\x41\\u00e9\\n', 'c': {}}`,
      ),
    ).toEqual({
      a: [1, -2.5, 1000, [true, false, null]],
      b: "it's Aé\n",
      c: {},
    })
  })
  it('rejects code and malformed input', () => {
    expect(() => parsePythonLiteral(`{'a': __import__('os')}`)).toThrow(/unexpected character at column 7/)
    expect(() => parsePythonLiteral(`['x', 'y'`)).toThrow(/expected ','|unexpected/)
    expect(() => parsePythonLiteral(`'abc`)).toThrow(/unterminated string/)
    expect(() => parsePythonLiteral(`1 2`)).toThrow(/trailing characters/)
  })
})
