"""QualiCLIP as ONNX: :mod:`.export` writes a model's whole score as one ONNX file that ONNX Runtime runs
alone; :mod:`.backend` scores with such a file on the CPU (``load_model(backend="onnxruntime")``);
:mod:`.cli` and :mod:`.commands` are ``qualiclip export-onnx``. Needs the ``onnx`` extra (``onnx`` and
``onnxruntime``), imported only when used."""
