{
  "targets": [
    {
      "target_name": "node_libfabric",
      "sources": [
        "native/addon/module.cc",
        "native/addon/errors.cc",
        "native/addon/info.cc",
        "native/addon/fabric.cc",
        "native/addon/domain.cc",
        "native/addon/av.cc",
        "native/addon/cq.cc",
        "native/addon/cntr.cc",
        "native/addon/eq.cc",
        "native/addon/mr.cc",
        "native/addon/endpoint.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/softuet/include",
        "<(INTERMEDIATE_DIR)/errno"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wno-missing-field-initializers",
                    "<!@(pkg-config --cflags libfabric)"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++1y"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["<!@(pkg-config --libs libfabric)"],
      "actions": [
        {
          # The FI_E* name table is generated from the installed header, so FabricError
          # codes are always the ones of the libfabric the addon is built against.
          "action_name": "errno_table",
          "inputs": ["native/addon/gen-errno-table.mjs",
                     "<!(pkg-config --variable=includedir libfabric)/rdma/fi_errno.h"],
          "outputs": ["<(INTERMEDIATE_DIR)/errno/fi_errno_table.h"],
          "action": ["node", "native/addon/gen-errno-table.mjs",
                     "<!(pkg-config --variable=includedir libfabric)/rdma/fi_errno.h",
                     "<(INTERMEDIATE_DIR)/errno/fi_errno_table.h"]
        }
      ]
    }
  ]
}
