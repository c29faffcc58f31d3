{
  "targets": [
    {
      "target_name": "cllm4rec_native",
      "sources": ["src/native.c"],
      "cflags": ["-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math"],
      "conditions": [
        ["OS=='linux'", {
          "libraries": ["-lopenblas"],
          "defines": ["CLLM4REC_OPENBLAS"]
        }],
        ["OS=='mac'", {
          "libraries": ["-framework Accelerate"],
          "defines": ["CLLM4REC_ACCELERATE"],
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-fno-math-errno", "-fno-trapping-math"] }
        }]
      ]
    }
  ]
}
